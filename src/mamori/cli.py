"""The ``mamori`` command line: the only module that prints for users and exits.

Each command turns flags into a call on a stage's public interface and renders the result.
Errors from the stages (:class:`mamori.errors.MamoriError`) become exit codes here and only
here (see the exit-code table in the README and the contract).
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mamori import __version__
from mamori.errors import InputError, MamoriError, ResourceUnavailable
from mamori.model import DECISION_ORDER, SEVERITY_ORDER, Report

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

app = typer.Typer(
    name="mamori",
    help="mamori (守り): find, prioritise, fix, detect and share vulnerabilities at machine speed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="The advisory database: download, import, inspect.", no_args_is_help=True)
app.add_typer(db_app, name="db")
hub_app = typer.Typer(help="The sharing hub's organisations and their tokens.", no_args_is_help=True)
app.add_typer(hub_app, name="hub")
share_app = typer.Typer(
    help="Share findings and alerts with a hub (TAXII 2.1), and pull peers'.", no_args_is_help=True
)
app.add_typer(share_app, name="share")

err = Console(stderr=True, highlight=False)


class ScanFormat(StrEnum):
    """Output formats of ``mamori scan``."""

    table = "table"
    json = "json"
    sarif = "sarif"
    cyclonedx = "cyclonedx"
    openvex = "openvex"
    csaf = "csaf"
    csaf_advisory = "csaf-advisory"
    stix = "stix"


class Confidence(StrEnum):
    """Confidence levels of code findings."""

    low = "low"
    medium = "medium"
    high = "high"


class SbomFormat(StrEnum):
    """Output formats of ``mamori sbom``."""

    cyclonedx = "cyclonedx"
    spdx = "spdx"


FAIL_ON_HELP = (
    "Exit 1 when a finding is at or above this: a severity (critical, high, medium, low), "
    "a decision (act, attend, track*, track) or 'any'."
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mamori {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version_callback, is_eager=True
        ),
    ] = False,
) -> None:
    """mamori (守り): find, prioritise, fix, detect and share vulnerabilities at machine speed."""


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}")


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically (never half-written), or to stdout for None or '-'."""
    if output is None or str(output) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    output = Path(output)
    if output.exists() and not output.is_file():
        # a device or pipe (/dev/null, /dev/stdout, a FIFO): write to it, never replace it
        with output.open("w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fails(report: Report, fail_on: str) -> bool:
    """True when an open finding of ``report`` is at or above ``fail_on``."""
    level = fail_on.lower()
    open_findings = [f for f in report.findings if f.status == "open"]
    if level == "any":
        return bool(open_findings)
    if level in SEVERITY_ORDER and level not in ("unknown", "info"):
        need = SEVERITY_ORDER[level]
        return any(SEVERITY_ORDER.get(f.severity, 0) >= need for f in open_findings)
    if level in DECISION_ORDER:
        need = DECISION_ORDER[level]
        return any(
            f.priority is not None and DECISION_ORDER[f.priority.decision] >= need for f in open_findings
        )
    raise InputError(
        f"--fail-on {fail_on!r} is not a severity (critical, high, medium, low), "
        "a decision (act, attend, track*, track) or 'any'"
    )


def _report_errors(report: Report) -> None:
    for e in report.errors:
        where = e.path + (f":{e.line}" if e.line else "")
        err.print(f"[red]error:[/] {where}: {e.message}", markup=True)


@app.command()
def scan(
    targets: Annotated[
        list[Path] | None,
        typer.Argument(help="Project folders, lockfiles or SBOMs to scan (default: the current folder)."),
    ] = None,
    fmt: Annotated[ScanFormat, typer.Option("--format", "-f", help="Output format.")] = ScanFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here ('-' = stdout).")
    ] = None,
    deps: Annotated[
        bool, typer.Option("--deps/--no-deps", help="Match dependencies against advisories.")
    ] = True,
    code: Annotated[
        bool, typer.Option("--code/--no-code", help="Analyse the project's own Python code.")
    ] = True,
    fail_on: Annotated[str, typer.Option("--fail-on", help=FAIL_ON_HELP)] = "any",
    offline: Annotated[
        bool, typer.Option("--offline", help="Never download; use the local advisory database as it is.")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A previous JSON report: report only findings not in it."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 if any file could not be read.")] = False,
    python: Annotated[
        Path | None,
        typer.Option("--python", help="Also scan the distributions installed for this interpreter."),
    ] = None,
    vex: Annotated[
        list[Path] | None,
        typer.Option("--vex", help="VEX document (CycloneDX, OpenVEX, CSAF) to honour; repeatable."),
    ] = None,
    prove: Annotated[
        bool,
        typer.Option(
            "--prove",
            help="Prove each web code finding with a real request to the app in a sandbox (see `mamori prove`).",
        ),
    ] = False,
    confidence: Annotated[
        Confidence,
        typer.Option(
            "--confidence",
            help="Lowest confidence of code findings to report; low adds flows from the operator's own "
            "input (command line, environment).",
        ),
    ] = Confidence.medium,
) -> None:
    """Find vulnerable dependencies (and weaknesses in the project's code).

    Reads every lockfile, manifest and SBOM under each TARGET, matches each pinned component
    exactly against the OSV advisories in the local database (refreshing it first when it is
    missing or a day old, unless --offline), and reports each finding with the file and line it
    came from. Each finding gets an SSVC decision (act, attend, track*, track) from CISA KEV,
    EPSS, CVSS, reachability and the asset's mission ([asset] in mamori.toml), with its reasons;
    VEX statements (--vex) and ignores ([[ignore]] with reason and expiry) are honoured. Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input, 3 no database
    and no network.
    """
    from mamori._progress import RichProgress
    from mamori.output.interface import render
    from mamori.scan import ScanOptions, scan_targets

    fails(Report(), fail_on)  # validate the flag before any work
    options = ScanOptions(
        deps=deps,
        code=code,
        offline=offline,
        python=python,
        baseline=baseline,
        vex=tuple(vex or ()),
        min_confidence=confidence.value,
        prove=prove,
    )
    with RichProgress(bytes_mode=True) as progress:
        report = scan_targets(list(targets or [Path(".")]), options, progress=progress, warn=_warn)
    if fmt is ScanFormat.table and (output is None or str(output) == "-") and sys.stdout.isatty():
        from mamori.output.table import render_table

        text = render_table(report, color=True, width=Console().width)
    else:
        text = render(report, fmt.value, components=report.inventory)
    write_output(text, output)
    _report_errors(report)
    if strict and report.errors:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_FINDINGS if fails(report, fail_on) else EXIT_OK)


@app.command()
def sbom(
    target: Annotated[Path, typer.Argument(help="A project folder, lockfile or SBOM.")] = Path("."),
    fmt: Annotated[SbomFormat, typer.Option("--format", "-f", help="SBOM format.")] = SbomFormat.cyclonedx,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the SBOM here ('-' = stdout).")
    ] = None,
) -> None:
    """Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON) of TARGET's dependencies."""
    from mamori.output.sbom import render_sbom
    from mamori.scan import inventory_of

    inventory = inventory_of(target)
    write_output(render_sbom(inventory, fmt.value), output)
    for e in inventory.errors:
        err.print(f"[red]error:[/] {e.path}{':' + str(e.line) if e.line else ''}: {e.message}")


@db_app.command("update")
def db_update(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem", "-e", help="OSV ecosystem to download (repeatable), e.g. PyPI, npm, Maven."
        ),
    ] = None,
) -> None:
    """Download OSV advisories (per ecosystem), the CISA KEV catalogue and FIRST EPSS scores.

    Without --ecosystem, refreshes the ecosystems already in the database (a default set for a
    new one). The download is atomic: a failed or interrupted update leaves the old database whole.
    URLs can be changed with MAMORI_OSV_URL (with {ecosystem}), MAMORI_KEV_URL and MAMORI_EPSS_URL.
    """
    from mamori._progress import RichProgress
    from mamori.advisories.store import AdvisoryStore
    from mamori.config import advisory_db_path

    store = AdvisoryStore(advisory_db_path())
    with RichProgress(bytes_mode=True) as progress:
        summary = store.update(list(ecosystem or []), progress=progress)
    typer.echo(str(summary))


@db_app.command("import")
def db_import(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="OSV .json/.yaml files, folders, osv.dev all.zip files, KEV .json, EPSS .csv(.gz)."
        ),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 if any file could not be imported.")
    ] = False,
) -> None:
    """Import advisory data from local files (offline). Atomic: a failed import changes nothing."""
    from mamori._progress import RichProgress
    from mamori.advisories.store import AdvisoryStore
    from mamori.config import advisory_db_path

    for p in paths:
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
    store = AdvisoryStore(advisory_db_path())
    with RichProgress() as progress:
        summary = store.import_paths(paths, progress=progress)
    typer.echo(str(summary))
    errors = getattr(summary, "errors", ())
    for e in errors:
        err.print(f"[red]error:[/] {e.path}{':' + str(e.line) if e.line else ''}: {e.message}")
    if strict and errors:
        raise typer.Exit(EXIT_USAGE)


@db_app.command("status")
def db_status() -> None:
    """Show what is in the advisory database and how old it is."""
    from mamori.advisories.store import AdvisoryStore
    from mamori.config import advisory_db_path

    store = AdvisoryStore(advisory_db_path())
    if not store.exists:
        err.print(
            f"no advisory database at {store.path}: run `mamori db update` (online) "
            "or `mamori db import PATH` (offline)"
        )
        raise typer.Exit(EXIT_UNREACHABLE)
    typer.echo(str(store.status()))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's report files.")] = Path(
        "mamori-demo"
    ),
) -> None:
    """Run the whole loop on the bundled sample project, offline, and print what it did."""
    from mamori.demo import run_demo

    raise typer.Exit(run_demo(out, console=Console(highlight=False)))


def _register_optional_commands() -> None:
    """Commands of the later stages, each defined in its own package."""
    import importlib

    for module, attr, target, name in (
        ("mamori.fix.command", "fix_command", app, "fix"),
        ("mamori.prove.command", "prove_command", app, "prove"),
        ("mamori.detect.command", "detect_command", app, "detect"),
        ("mamori.share.command", "serve_command", app, "serve"),
        ("mamori.share.command", "hub_add_org_command", hub_app, "add-org"),
        ("mamori.share.command", "share_push_command", share_app, "push"),
        ("mamori.share.command", "share_pull_command", share_app, "pull"),
    ):
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        target.command(name)(fn)


_register_optional_commands()


def main() -> None:
    """Entry point of the ``mamori`` script: run the app, map errors to exit codes."""
    try:
        app()
    except ResourceUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(EXIT_UNREACHABLE)
    except MamoriError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
