"""``mamori prove``: scan a project's code and prove each web finding with a real request."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def prove_command(
    target: Annotated[Path, typer.Argument(help="The project folder (default: the current folder).")] = Path(
        "."
    ),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json or sarif.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here ('-' = stdout).")
    ] = None,
    write_tests: Annotated[
        Path | None,
        typer.Option(
            "--write-tests", help="Write each proof as a pytest test (the framework's test client) here."
        ),
    ] = None,
    python: Annotated[
        Path | None,
        typer.Option(
            "--python",
            help="The app's interpreter, mounted read-only (default: MAMORI_FIX_PYTHON, else a cached "
            "scratch virtualenv of the project's pinned packages, installed as wheels).",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Download nothing: without --python or a virtualenv cached by an earlier run, the "
            "proofs are not_attempted (no environment).",
        ),
    ] = False,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="As for scan: a severity, a decision or 'any'.")
    ] = "any",
    unsafe: Annotated[
        bool,
        typer.Option(
            "--unsafe-run", help="Run the app without a sandbox when none can be had (never the default)."
        ),
    ] = False,
) -> None:
    """Prove code findings: start the app in a sandbox and send each finding a request that shows it.

    For every code finding whose input is a web request (Flask, Django, FastAPI/Starlette,
    aiohttp, Tornado, plain WSGI callables, http.server handlers), mamori starts the app the way
    its users do (app = Flask(...), create_app(), manage.py settings, ASGI apps, web.Application(),
    tornado Application, def application(environ, start_response)) in a child process under the
    sandbox (own network namespace, scrubbed environment, writes only in a scratch copy), sends a
    request built from the finding's trace with a unique harmless canary, and watches the sink.
    A finding is `proven` only when the canary acted at the sink (changed the SQL's structure, ran
    as a command, left the folder, came back unescaped in HTML...); every other finding says why
    not. Proven findings get SSVC exploitation `poc`.

    The app runs with --python (or MAMORI_FIX_PYTHON); otherwise mamori installs the project's
    pinned packages as wheels into a cached scratch virtualenv (the network is used for that
    step only; nothing of the project runs for it); pins too old for this Python are retried at
    their newest releases, and the proof says so. With --offline, no --python and nothing cached
    there is no environment and the proofs are not_attempted.
    Exit codes as scan's: 0 clean, 1 findings at or above --fail-on, 2 bad input.
    """
    from mamori._progress import RichProgress
    from mamori.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, _report_errors, _warn, err, fails, write_output
    from mamori.model import Report
    from mamori.output.interface import render
    from mamori.scan import ScanOptions, scan_targets

    if fmt not in ("table", "json", "sarif"):
        err.print(f"[red]error:[/] --format {fmt!r}: choose table, json or sarif")
        raise typer.Exit(EXIT_USAGE)
    fails(Report(), fail_on)
    if not target.is_dir():
        err.print(f"[red]error:[/] {target}: not a project folder")
        raise typer.Exit(EXIT_USAGE)
    options = ScanOptions(
        deps=False, code=True, offline=offline, prove=True, prove_python=python, prove_unsafe=unsafe
    )
    with RichProgress() as progress:
        report = scan_targets([target], options, progress=progress, warn=_warn)
    if fmt == "table" and (output is None or str(output) == "-") and sys.stdout.isatty():
        from rich.console import Console

        from mamori.output.table import render_table

        text = render_table(report, color=True, width=Console().width)
    else:
        text = render(report, fmt)
    write_output(text, output)
    if write_tests is not None:
        from mamori.prove._apps import find_apps
        from mamori.prove._tests import write_tests as write

        written = write(write_tests, target, list(report.findings), find_apps(target.resolve()))
        for path in written:
            err.print(f"wrote {path}")
        if not written:
            err.print("no proven finding: no test written")
    _report_errors(report)
    raise typer.Exit(EXIT_FINDINGS if fails(report, fail_on) else EXIT_OK)
