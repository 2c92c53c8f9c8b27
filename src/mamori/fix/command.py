"""``mamori fix``: the command-line face of :func:`mamori.fix.fix_project`.

A plain function with typer annotations; :mod:`mamori.cli` registers it as
``app.command("fix")(fix_command)``. It prints each fix with its status, why, and (with
``--dry-run``) its diff, and exits 1 when findings are left unfixed (the contract).
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mamori.fix.interface import FixReport

__all__ = ["Strategy", "fix_command", "print_report"]


class Strategy(StrEnum):
    """Upgrade strategies."""

    in_place = "in-place"
    latest_safe = "latest-safe"


def fix_command(
    target: Annotated[Path, typer.Argument(help="The project folder to fix.")] = Path("."),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diffs that would be applied; change nothing.")
    ] = False,
    deps: Annotated[bool, typer.Option("--deps/--no-deps", help="Fix vulnerable dependencies.")] = True,
    code: Annotated[bool, typer.Option("--code/--no-code", help="Fix weaknesses in the code.")] = True,
    strategy: Annotated[
        Strategy,
        typer.Option(
            "--strategy",
            help="in-place: smallest safe release within the current major version; latest-safe: newest safe release.",
        ),
    ] = Strategy.in_place,
    test_command: Annotated[
        str | None,
        typer.Option("--test-command", help="The command that runs the project's tests (default: detected)."),
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Apply rule-based fixes without running tests or a re-scan.")
    ] = False,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            help="Commit each verified fix to this new git branch instead of changing the working tree.",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Do not contact the package index or update the advisory database."),
    ] = False,
    python: Annotated[
        Path | None,
        typer.Option(
            "--python",
            help="The interpreter (or venv's python) the project's tests run with, mounted read-only in the sandbox; default: MAMORI_FIX_PYTHON, else a cached scratch virtualenv of the project's pinned packages (wheels only, from PIP_INDEX_URL).",
        ),
    ] = None,
    allow_network: Annotated[
        bool,
        typer.Option(
            "--allow-network",
            help="Let the project's tests and tools use the network (by default the sandbox has its own network namespace: loopback only).",
        ),
    ] = False,
    unsafe_run_tests: Annotated[
        bool,
        typer.Option(
            "--unsafe-run-tests",
            help="Run the project's tests without a sandbox when bubblewrap is not available (they run as you, with your files; the environment is still scrubbed).",
        ),
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Leave out files and folders matching this gitignore-style glob (repeatable; added to the target's .mamoriignore).",
        ),
    ] = None,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Ask the model at MAMORI_LLM_URL (MAMORI_LLM_MODEL, MAMORI_LLM_API_KEY) to draft fixes rules cannot make; drafts are verified like any fix.",
        ),
    ] = False,
) -> None:
    """Write, prove and apply fixes: dependency upgrades and code rewrites.

    A fix is applied only when it is verified: the project's tests that passed before still pass,
    a re-scan no longer reports the finding, and no new finding appears (unless --no-verify).

    The project's tests and tools are its own code: they run in a sandbox (bubblewrap) over a
    scratch copy, with an allow-listed environment and no network (--allow-network to share it).
    Without bubblewrap the fixes that need them are unverified and nothing is written, unless
    --unsafe-run-tests. --dry-run runs the same verification and writes nothing outside
    MAMORI_HOME (the run is recorded as a dry run).

    Exit codes: 0 every finding fixed, 1 findings left unfixed, 2 bad input, 3 a resource unreachable.
    """
    from mamori.fix import fix_project

    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    report = fix_project(
        target,
        deps=deps,
        code=code,
        strategy=strategy.value,
        test_command=test_command,
        verify=not no_verify,
        apply=not dry_run,
        offline=offline or os.environ.get("MAMORI_OFFLINE") == "1",
        branch=None if dry_run else branch,
        llm=llm,
        warn=lambda m: err.print(f"[yellow]warning:[/] {escape(m)}"),
        python=str(python) if python else None,
        allow_network=allow_network,
        unsafe_run_tests=unsafe_run_tests,
        exclude=tuple(exclude or ()),
    )
    print_report(report, console, show_diffs=dry_run)
    _record(report, target, err, dry_run=dry_run)
    unfixed = [r for r in report.results if not r.applied and not (dry_run and r.status == "verified")]
    raise typer.Exit(1 if unfixed else 0)


def _record(report: FixReport, target: Path, err: Console, *, dry_run: bool = False) -> None:
    """Store the fix run in the results database (a dry run marked as one); never fatal."""
    from mamori.results import record_quietly

    record_quietly(
        lambda store: store.record_fixes(target, report, dry_run=dry_run),
        lambda msg: err.print(f"[yellow]warning:[/] {escape(msg)}"),
    )


def print_report(report: FixReport, console: Console, *, show_diffs: bool = False) -> None:
    """Print one line per fix (status, rule, where, what, why) and, if asked, the diffs."""
    v = report.verification
    console.print(
        f"[bold]mamori fix[/] {report.root}: scan {report.scan_seconds:.1f}s, total {report.total_seconds:.1f}s; "
        f"verification: {v.method}" + (f" ({v.tests})" if v.tests else "")
    )
    for w in v.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    colour = {"verified": "green", "unverified": "yellow", "not_possible": "red"}
    shown: set[str] = set()
    seen: set[tuple[str, str, int, str]] = set()
    for r in report.results:
        key = (r.rule, r.path, r.line, r.status)
        if key in seen:
            continue
        seen.add(key)
        timing = f" in {r.seconds_to_verified:.1f}s" if r.seconds_to_verified is not None else ""
        state = "applied" if r.applied else r.status
        console.print(
            f"[{colour[r.status]}]{state:<12}[/] {escape(f'{r.rule} {r.path}:{r.line} {r.summary}{timing}')}\n"
            f"             {escape(r.why)}"
        )
        for note in r.notes:
            console.print(f"             note: {escape(note)}")
        for option in r.options:
            console.print(f"             option: {escape(option)}")
        if show_diffs and r.diff and r.diff not in shown:
            shown.add(r.diff)
            console.print(r.diff, markup=False, highlight=False, end="")
    if report.branch:
        console.print(f"verified fixes committed to branch [bold]{report.branch}[/]")
    for e in report.errors:
        console.print(f"[red]error:[/] {escape(e)}")
    fixed = sum(1 for r in report.results if r.applied)
    console.print(f"{fixed} of {len(report.results)} findings fixed")
