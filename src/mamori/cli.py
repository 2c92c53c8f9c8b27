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
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperGroup

from mamori import __version__
from mamori._terminal import terminal_safe
from mamori._text import count
from mamori.errors import InputError, MamoriError, ResourceUnavailable
from mamori.model import DECISION_ORDER, SEVERITY_ORDER, Report
from mamori.recording import NoRecordOption, should_record

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class _PlainArgument(TyperArgument):
    """An argument whose help names it by its metavar alone (``TARGETS...``), not a Python type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """No type after the name: the metavar already says what to give."""
        return None

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        """``LOGS...`` for a required list, ``[TARGETS]...`` for an optional one (not ``{LOGS}``)."""
        var = self.metavar or (self.name or "value").upper()
        if usage and not self.required:
            var = f"[{var}]"
        return var + ("..." if self.nargs != 1 else "")


def _metavar(param: Any) -> str:
    """The word help shows for a value: ``PATH``, ``TEXT``, ``INTEGER``, ``[a|b]`` for choices.

    The type is known by its class names (typer ships its own copy of click's types)."""
    kind = param.type
    names = {cls.__name__ for cls in type(kind).__mro__}
    if "Choice" in names or "TyperChoice" in names:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in kind.choices) + "]"
    for cls, word in (
        ("File", "FILE"),
        ("Path", "PATH"),
        ("DateTime", "DATETIME"),
        ("IntParamType", "INTEGER"),
        ("IntRange", "INTEGER"),
        ("FloatParamType", "NUMBER"),
        ("FloatRange", "NUMBER"),
        ("StringParamType", "TEXT"),
    ):
        if cls in names:
            return word
    return str(getattr(kind, "name", "value")).upper()


def _tidy_help(command: Any) -> None:
    """Give every parameter below ``command`` a plain metavar (``PATH``, not ``<list[Path]>``)."""
    for param in command.params:
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        if isinstance(param, TyperArgument):
            param.metavar = (param.name or "value").upper()
            param.__class__ = _PlainArgument
        else:
            param.metavar = _metavar(param)
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


LAZY_COMMANDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "mamori": (
        ("fix", "mamori.fix.command", "fix_command"),
        ("prove", "mamori.prove.command", "prove_command"),
        ("detect", "mamori.detect.command", "detect_command"),
        ("serve", "mamori.share.command", "serve_command"),
    ),
    "db": (
        ("update", "mamori.advisories.command", "db_update_command"),
        ("import", "mamori.advisories.command", "db_import_command"),
        ("status", "mamori.advisories.command", "db_status_command"),
    ),
    "hub": (
        ("add-org", "mamori.share.command", "hub_add_org_command"),
        ("list", "mamori.share.command", "hub_list_command"),
        ("rotate-token", "mamori.share.command", "hub_rotate_token_command"),
        ("revoke", "mamori.share.command", "hub_revoke_command"),
    ),
    "share": (
        ("push", "mamori.share.command", "share_push_command"),
        ("pull", "mamori.share.command", "share_pull_command"),
    ),
    "watch": (
        ("add", "mamori.watch.command", "watch_add_command"),
        ("run", "mamori.watch.command", "watch_run_command"),
        ("status", "mamori.watch.command", "watch_status_command"),
        ("worker", "mamori.watch.command", "watch_worker_command"),
    ),
}
"""Commands of the later stages by group: (name, module, function), each defined in its own
package and imported only when that command runs (or help lists it), so that ``mamori scan``
does not import the hub, the watch service or the fixers at start-up."""


class MamoriGroup(TyperGroup):
    """The command tree: help renders as written (no Rich markup) with plain value names.

    Rich markup is off (``rich_markup_mode=None``) so ``[asset]``, ``[[ignore]]`` and
    ``[tool.mamori]`` in help text show literally; every parameter of every command gets a
    metavar naming what to give (``PATH``, ``TEXT``, ``[table|json]``), never a Python type.
    The commands of :data:`LAZY_COMMANDS` are built when first asked for.
    """

    def __init__(self, **attrs: object) -> None:
        super().__init__(**attrs)  # type: ignore[arg-type]
        _tidy_help(self)

    def _lazy(self) -> tuple[tuple[str, str, str], ...]:
        return LAZY_COMMANDS.get(self.name or "", ())

    def list_commands(self, ctx: Any) -> list[str]:
        """This group's own commands, then the lazy ones, then its sub-groups (help's order)."""
        own = super().list_commands(ctx)
        groups = [n for n in own if isinstance(self.commands.get(n), TyperGroup)]
        plain = [n for n in own if n not in groups]
        return [*plain, *(n for n, _, _ in self._lazy() if n not in own), *groups]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A command by name, importing a lazy one's module the first time (None if absent)."""
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        for name, module, attr in self._lazy():
            if name == cmd_name:
                return self._load(name, module, attr)
        return None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As typer's, with the lazy commands among the names a typo is matched against."""
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            if self.suggest_commands and args and self._lazy() and exc.message.startswith("No such command"):
                from difflib import get_close_matches

                message = exc.message.split(". Did you mean ", 1)[0].rstrip(".")
                matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
                suggestion = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{message}. Did you mean {suggestion}?" if matches else f"{message}."
            raise

    def _load(self, name: str, module: str, attr: str) -> Any:
        import importlib

        from typer.main import get_command_from_info
        from typer.models import CommandInfo

        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):  # a stage left out of a slim install
            return None
        command = get_command_from_info(
            CommandInfo(name=name, callback=fn), pretty_exceptions_short=True, rich_markup_mode=None
        )
        _tidy_help(command)
        self.add_command(command, name)
        return command


def _typer(**kwargs: object) -> typer.Typer:
    """A sub-command group of mamori with the same help rendering as the root."""
    return typer.Typer(cls=MamoriGroup, rich_markup_mode=None, **kwargs)  # type: ignore[arg-type]


app = typer.Typer(
    name="mamori",
    cls=MamoriGroup,
    help="mamori (守り): find, prioritise, fix, detect and share vulnerabilities at machine speed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = _typer(help="The advisory database: download, import, inspect.", no_args_is_help=True)
app.add_typer(db_app, name="db")
hub_app = _typer(help="The sharing hub's organisations and their tokens.", no_args_is_help=True)
app.add_typer(hub_app, name="hub")
share_app = _typer(
    help="Share findings and alerts with a hub (TAXII 2.1), and pull peers'.", no_args_is_help=True
)
app.add_typer(share_app, name="share")
watch_app = _typer(
    help="The loop by itself: watch a fleet of projects and the feeds, propose verified fixes.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")

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
    err.print(f"[yellow]warning:[/] {escape(terminal_safe(message))}")


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
        err.print(f"[red]error:[/] {escape(terminal_safe(where))}: {escape(terminal_safe(e.message))}")


EXCLUDE_HELP = (
    "Leave out files and folders matching this gitignore-style glob (relative to the target; "
    "repeatable; added to the target's .mamoriignore). Nothing is excluded by default; findings in "
    "test and fixture folders are kept, marked test, with low confidence; minified and vendored "
    "JavaScript (*.min.js, vendor/, static/admin/) is not analysed."
)


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
        typer.Option(
            "--python",
            help="Also scan the distributions installed for this interpreter; with --prove, the app's "
            "interpreter too (default: a cached scratch virtualenv of the project's pinned packages).",
        ),
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
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help=EXCLUDE_HELP),
    ] = None,
    no_record: NoRecordOption = False,
) -> None:
    """Find vulnerable dependencies (and weaknesses in the project's code).

    Reads every lockfile, manifest and SBOM under each TARGET, matches each pinned component
    exactly against the OSV advisories in the local database (refreshing it first when it is
    missing or a day old, unless --offline), and reports each finding with the file and line it
    came from. Each finding gets an SSVC decision (act, attend, track*, track) from CISA KEV,
    EPSS, CVSS, reachability and the asset's mission ([asset] in mamori.toml), with its reasons;
    VEX statements (--vex) and ignores ([[ignore]] with reason and expiry) are honoured;
    settings may also live in pyproject.toml under [tool.mamori].

    Coverage is stated, never implied: what could not be checked (a manifest with no lockfile,
    an unpinned requirement, an ecosystem with no advisories in the database, a file that could
    not be read) is listed, and "No vulnerabilities found" appears only when every inventory
    item was checked. A range matches an advisory only when every version it allows is
    affected (match: every-version).

    Exit codes: 0 no finding at or above --fail-on, 1 findings at or above --fail-on, 2 bad
    input or nothing to scan (an empty folder; every file unreadable), 3 nothing in the
    inventory could be checked (no database and no network, no lockfile, no advisories for
    its ecosystems).
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
        exclude=tuple(exclude or ()),
        prove=prove,
        record=should_record(no_record),
    )
    with RichProgress(bytes_mode=True) as progress:
        report = scan_targets(list(targets or [Path(".")]), options, progress=progress, warn=_warn)
    to_stdout = output is None or str(output) == "-"
    if fmt is ScanFormat.table and to_stdout and (sys.stdout.isatty() or os.environ.get("COLUMNS")):
        from mamori.output.table import render_table

        # a terminal's width, or COLUMNS when piped (a CI log's width): never cropped, see _layout
        tty = sys.stdout.isatty()
        text = render_table(report, color=tty, width=Console().width)
    else:
        text = render(report, fmt.value, components=report.inventory)
    write_output(text, output)
    _report_errors(report)
    shown_in_table = fmt is ScanFormat.table and (output is None or str(output) == "-")
    if not shown_in_table:
        for message in report.database.warnings:
            _warn(message)
        if report.coverage.unchecked:
            cov = report.coverage
            _warn(
                f"{cov.total - cov.checked} of {count(cov.total, 'inventory item')} were not checked (see coverage)"
            )
    raise typer.Exit(scan_exit_code(report, fail_on, strict=strict))


def scan_exit_code(report: Report, fail_on: str, *, strict: bool = False) -> int:
    """The exit code of a scan: findings first, then whether anything could be checked at all.

    2 for nothing to scan (no inventory, no readable file, no code) and for a scan where every
    inventory item was an unreadable file; 3 when the inventory held items but none could be
    checked; otherwise 1 for findings at or above ``fail_on``, else 0.
    """
    cov = report.coverage
    if strict and report.errors:
        return EXIT_USAGE
    if fails(report, fail_on):
        return EXIT_FINDINGS
    if cov.total == 0 and cov.code_files == 0 and not report.errors and not cov.files:
        err.print(
            "[red]error:[/] nothing to scan: no lockfile, manifest, SBOM or Python file under "
            f"{escape(report.target)}; give a project folder or a lockfile"
        )
        return EXIT_USAGE
    if cov.deps and cov.total and cov.checked == 0:
        if all(u.reason == "unreadable" for u in cov.unchecked):
            err.print("[red]error:[/] nothing could be scanned: every file found was unreadable")
            return EXIT_USAGE
        err.print(
            f"[red]error:[/] none of the {count(cov.total, 'inventory item')} could be checked "
            "(listed under 'Not checked' / coverage.unchecked)"
        )
        return EXIT_UNREACHABLE
    return EXIT_OK


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


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo's report files.")] = Path(
        "mamori-demo"
    ),
) -> None:
    """Run the whole loop on the bundled sample project, offline, and print what it did."""
    from mamori.demo import run_demo

    raise typer.Exit(run_demo(out, console=Console(highlight=False)))


def main() -> None:
    """Entry point of the ``mamori`` script: run the app, map errors to exit codes."""
    try:
        app()
    except ResourceUnavailable as exc:
        err.print(f"[red]error:[/] {escape(terminal_safe(str(exc)))}")
        sys.exit(EXIT_UNREACHABLE)
    except MamoriError as exc:
        err.print(f"[red]error:[/] {escape(terminal_safe(str(exc)))}")
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
