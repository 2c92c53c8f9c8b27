"""``mamori fix``: the command-line face of :func:`mamori.fix.fix_project`.

A plain function with typer annotations; :mod:`mamori.cli` registers it as
``app.command("fix")(fix_command)``. It prints each fix with its status, why, and (with
``--dry-run``) its diff, and exits 1 when findings are left unfixed (the contract).
"""

from __future__ import annotations

import io
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mamori._text import count
from mamori.errors import InputError
from mamori.fix.interface import WRITTEN, FixReport

__all__ = ["OutputFormat", "Strategy", "fix_command", "print_report"]


class OutputFormat(StrEnum):
    """Output formats of ``mamori fix``."""

    text = "text"
    json = "json"


class Strategy(StrEnum):
    """Upgrade strategies."""

    in_place = "in-place"
    latest_safe = "latest-safe"


def fix_command(
    target: Annotated[Path, typer.Argument(help="The project folder to fix.")] = Path("."),
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Verify as usual, print the patch that would be applied (git apply takes it); change nothing.",
        ),
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
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Ask the model at MAMORI_LLM_URL (MAMORI_LLM_MODEL, MAMORI_LLM_API_KEY) to draft fixes rules cannot make; drafts are verified like any fix.",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="text: one line per fix; json: the run as mamori.fix/1 (schema: output/fix.schema.json).",
        ),
    ] = OutputFormat.text,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the output to this file instead of stdout (with --dry-run and text: the patch).",
        ),
    ] = None,
    include_tests: Annotated[
        bool,
        typer.Option(
            "--include-tests",
            help="Also rewrite findings in tests, fixtures, examples and vendored code (reported only by default).",
        ),
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
) -> None:
    """Write, prove and apply fixes: dependency upgrades and code rewrites.

    Each fix gets one status: proven (verified, and its proof of vulnerability fired before and
    not after), verified (the tests that passed before still pass, they ran every changed line
    — measured with coverage.py — or imported the upgraded package, and a re-scan no longer
    reports the finding), unverified (the reason says what evidence is missing), or refused (no
    correct automatic fix; what to do instead). Only proven and verified fixes are written
    (unless --no-verify).

    The project's tests and tools are its own code: they run in a sandbox (bubblewrap) over a
    scratch copy, with an allow-listed environment and no network (--allow-network to share it),
    with the interpreter named by --python (else MAMORI_FIX_PYTHON, else a scratch virtualenv of
    the project's pinned packages). An npm project's tests are `npm test` over node_modules
    installed from the fix's lockfile by `npm ci --ignore-scripts` (registry: npm_config_registry);
    node's record of the scripts the tests loaded shows whether they ran the upgraded package.
    Without bubblewrap the fixes that need them are unverified and nothing is written, unless
    --unsafe-run-tests.

    --dry-run runs the same verification, prints the patch on stdout (`mamori fix --dry-run |
    git apply` works) and the summary on stderr, and writes nothing outside MAMORI_HOME (the run
    is recorded as a dry run).

    Exit codes: 0 every finding fixed, 1 findings left unfixed, 2 bad input, 3 a resource
    unreachable.
    """
    from mamori._progress import RichProgress
    from mamori.fix import fix_project

    err = Console(stderr=True, highlight=False)
    with RichProgress() as progress:
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
            include_tests=include_tests,
            progress=progress,
            python=str(python) if python else None,
            allow_network=allow_network,
            unsafe_run_tests=unsafe_run_tests,
            exclude=tuple(exclude or ()),
        )
    _emit(report, output_format, output, dry_run, err)
    _record(report, target, err, dry_run=dry_run)
    unfixed = [r for r in report.results if not r.applied and not (dry_run and r.status in WRITTEN)]
    raise typer.Exit(1 if unfixed else 0)


def _emit(report: FixReport, fmt: OutputFormat, output: Path | None, dry_run: bool, err: Console) -> None:
    """JSON, the patch (dry run) or the table, to ``output`` or stdout; the summary on stderr."""
    from mamori.fix._render import patch, to_json

    if fmt is OutputFormat.json:
        text = json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
    elif dry_run:
        text = patch(report)
        print_report(report, err, show_diffs=False)
    else:
        buffer = io.StringIO()
        print_report(report, Console(file=buffer, highlight=False, width=120, no_color=True, emoji=False))
        text = buffer.getvalue()
        if output is None:
            print_report(report, Console(highlight=False))
            text = ""
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}", path=str(output)) from exc
    elif text:
        sys.stdout.write(text)
        sys.stdout.flush()
    if fmt is OutputFormat.json or dry_run or output is not None:
        err.print(report.summary())


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
    colour = {"proven": "green", "verified": "green", "unverified": "yellow", "not_possible": "red"}
    shown: set[str] = set()
    seen: set[tuple[str, str, int, str]] = set()
    for r in report.results:
        key = (r.rule, r.path, r.line, r.status)
        if key in seen:
            continue
        seen.add(key)
        timing = f" in {r.seconds_to_verified:.1f}s" if r.seconds_to_verified is not None else ""
        state = "applied" if r.applied else r.label
        console.print(
            f"[{colour[r.status]}]{state:<12}[/] {escape(f'{r.rule} {r.path}:{r.line} {r.summary}{timing}')}\n"
            f"             {escape(r.why)}"
        )
        for note in r.notes:
            console.print(f"             note: {escape(note)}")
        for option in r.options:
            console.print(f"             option: {escape(option)}")
        ev = r.evidence
        if ev.lines_changed:
            ran_by = f" by {', '.join(ev.covering_tests[:3])}" + (" …" if len(ev.covering_tests) > 3 else "")
            console.print(
                f"             evidence: {ev.lines_covered} of {count(ev.lines_changed, 'changed line')} ran"
                + (ran_by if ev.covering_tests else "")
            )
        if ev.imported:
            console.print(f"             evidence: the tests imported {escape(', '.join(ev.imported[:3]))}")
        if ev.proof:
            console.print(f"             proof: {escape(ev.proof)}")
        if show_diffs and r.diff and r.diff not in shown:
            shown.add(r.diff)
            console.print(r.diff, markup=False, highlight=False, end="")
    if report.branch:
        console.print(f"verified fixes committed to branch [bold]{report.branch}[/]")
    for e in report.errors:
        console.print(f"[red]error:[/] {escape(e)}")
    fixed = sum(1 for r in report.results if r.applied)
    console.print(f"{fixed} of {count(len(report.results), 'finding')} fixed ({report.summary()})")
