"""``mamori detect``: Sigma rules over logs, once or live (the CLI registers this function).

Only argument handling and rendering live here; the work is :class:`._detector.Detector`.
Exit codes follow the contract: 0 nothing at or above ``--fail-on``, 1 alerts at or above it,
2 bad usage or input (raised as :class:`mamori.errors.InputError`).

``--format stix`` renders the alerts as a STIX 2.1 bundle through the sharing stage
(:func:`mamori.share.stix.alerts_to_stix`, TLP AMBER as ``share push`` defaults to), ready for
``mamori share push``. Every run's alerts are recorded in the results database for the
dashboard (:meth:`mamori.results.ResultsStore.record_alerts`): once at the end of a run, and in
batches while following.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from mamori._terminal import terminal_safe
from mamori._text import count
from mamori.detect._alert import FAIL_ON_CHOICES, Alert, alerts_document, fails, summarize
from mamori.detect._events import parse_time
from mamori.detect._readers import not_regular
from mamori.errors import InputError
from mamori.model import ScanError

if TYPE_CHECKING:
    from mamori.detect._detector import Detector

_FORMATS = ("table", "jsonl", "json", "stix")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str | None, flag: str) -> float | None:
    """``--since``/``--until``: ISO 8601 (``2024-05-01``, ``2024-05-01T10:00:00Z``) or an age (``2h``)."""
    if text is None or not text.strip():
        return None
    m = _RELATIVE.match(text.strip())
    if m:
        return time.time() - float(m.group(1)) * _UNITS[m.group(2)]
    t = parse_local_time(text)
    if t is None:
        raise InputError(
            f"{flag}: not a time: {text!r} (use ISO 8601 like 2024-05-01T10:00:00Z, or an age like 2h)"
        )
    if not _has_zone(text.strip()):
        shown = datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")
        print(
            f"mamori detect: {flag} {text.strip()} has no offset: read in the local time zone, as {shown}",
            file=sys.stderr,
        )
    return t


_HAS_ZONE = re.compile(r"[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[Zz]|[+-]\d\d(?::?\d\d)?)$")


def _has_zone(s: str) -> bool:
    return bool(_HAS_ZONE.search(s))


def parse_local_time(text: str) -> float | None:
    """ISO 8601; without an offset the time is local (what a user typing a time means)."""
    s = text.strip()
    if _has_zone(s):
        return parse_time(s)
    try:
        d = datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
    except ValueError:
        return None
    try:
        return (d if d.tzinfo is not None else d.astimezone()).timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mamori")
    except Exception:
        return ""


_MICROS = re.compile(r"\.\d+(?=Z$|[+-]\d\d:\d\d$)")


def shown_timestamp(ts: str) -> str:
    """An alert's time for people: seconds, with its offset (``Z`` for UTC, ``+09:00`` …)."""
    return _MICROS.sub("", ts)


def _cell(text: str) -> Any:
    from rich.text import Text

    return Text(safe_text(text))  # a Text is never read as markup: "[/x]" stays "[/x]"


def _render_table(
    alerts: list[Alert],
    errors: list[ScanError],
    out: IO[str],
    *,
    events: int,
    rules: int,
    names: Mapping[str, str] | None = None,
    skipped: int = 0,
    applicable: int | None = None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from mamori._layout import fit

    names = names or {}
    console = Console(file=out, highlight=False, markup=False, width=160 if not out.isatty() else None)
    if alerts:
        table = Table(title=f"{count(len(alerts), 'alert')}", show_lines=False)
        for col in ("time", "level", "rule", "source", "host", "targets"):
            table.add_column(col, overflow="fold")
        for a in alerts[:1000]:
            targets = "; ".join(names.get(x, x) for x in a.exploits)
            table.add_row(
                _cell(shown_timestamp(a.timestamp)),
                _cell(a.level),
                _cell(a.title),
                _cell(f"{a.path}:{a.record}"),
                _cell(a.host),
                _cell(("ESCALATED: " + targets) if a.escalated else ""),
            )
        console.print(fit(table, console))
        if len(alerts) > 1000:
            console.print(f"… {count(len(alerts) - 1000, 'more alert')} (use --format jsonl for all)")
        summary = summarize(alerts)
        by_rule = Table(title="alerts per rule")
        for col in ("level", "rule", "alerts", "escalated"):
            by_rule.add_column(col)
        for r in summary["by_rule"]:
            by_rule.add_row(_cell(r["level"]), _cell(r["title"]), str(r["alerts"]), str(r["escalated"]))
        console.print(fit(by_rule, console))
        by_host = Table(title="alerts per host")
        by_host.add_column("host")
        by_host.add_column("alerts")
        for h in summary["by_host"]:
            by_host.add_row(_cell(h["host"]), str(h["alerts"]))
        console.print(fit(by_host, console))
    console.print(
        f"{count(events, 'event')}, {count(rules, 'rule')}{_applicable_note(rules, applicable, events)}, "
        f"{count(len(alerts), 'alert')}, {count(getattr(errors, 'total', len(errors)), 'problem')}"
        + (f", {count(skipped, 'file')} skipped (not logs)" if skipped else "")
    )


def _applicable_note(rules: int, applicable: int | None, events: int) -> str:
    """Says how many of the loaded rules the events' log sources let apply: "37 rules" over a
    Windows event checked none of them, and the summary must not imply otherwise."""
    if applicable is None or not events or applicable >= rules:
        return ""
    if applicable == 0:
        return " (none applies to these events' log sources)"
    return f" ({applicable:,} of them apply to these events' log sources)"


def detect_command(
    logs: Annotated[
        list[str],
        typer.Argument(
            help="Log files or folders: .evtx, .json/.jsonl (EVTX-to-JSON layouts too), access logs, "
            "W3C/IIS logs, syslog, auditd; .gz is read transparently; '-' reads stdin.",
            show_default=False,
        ),
    ],
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            help="Sigma rule files or folders (repeatable). Default: mamori's bundled rule pack.",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Output format: table, jsonl (contract), json, or stix (a STIX 2.1 bundle, TLP AMBER, "
            "for 'mamori share push').",
        ),
    ] = "table",
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write the output to FILE ('-' = stdout).")
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 when an alert is at or above this level: critical, high, medium, low, "
            "informational, or any; 'act' = escalated alerts only.",
        ),
    ] = "any",
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Tie alerts to the last 'mamori scan' of this project folder: an alert on a CVE or "
            "CWE the project has open is escalated.",
        ),
    ] = None,
    follow_logs: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep watching the files (text logs, JSON Lines, EVTX) and alert on new records as they come; "
            "rule files given with --rules that change are loaded again without a restart.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only events at or after this time (ISO 8601, or an age like 2h)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only events at or before this time (ISO 8601, or an age).")
    ] = None,
    no_record: Annotated[
        bool,
        typer.Option(
            "--no-record",
            help="Do not store this run's alerts in the results database (the dashboard will not show them).",
        ),
    ] = False,
) -> None:
    """Detect attacks in logs with Sigma rules (bundled pack or your own), once or live."""
    from mamori.detect._detector import Detector, expand_log_paths, resolve_rules

    fmt = output_format.lower()
    if fmt not in _FORMATS:
        raise InputError(f"--format must be one of {', '.join(_FORMATS)}, not {output_format!r}")
    if fail_on.lower() not in FAIL_ON_CHOICES:
        raise InputError(f"--fail-on must be one of {', '.join(FAIL_ON_CHOICES)}, not {fail_on!r}")
    if not logs:
        raise InputError("give at least one LOG file (or '-' for stdin)")
    if fmt == "stix" and follow_logs:
        raise InputError("--format stix writes one bundle at the end of a run; use jsonl with --follow")
    since_t = parse_when(since, "--since")
    until_t = parse_when(until, "--until")
    skipped: list[ScanError] = []
    paths = expand_log_paths(logs, skipped)
    if skipped:
        print(
            f"mamori detect: {count(len(skipped), 'file')} in the folders given are not logs and were skipped"
            + (" (listed in --format json)" if fmt == "json" else ""),
            file=sys.stderr,
        )
        if fmt != "json":
            _print_errors(skipped[:20])
            if len(skipped) > 20:
                print(f"mamori detect: … and {len(skipped) - 20} more skipped files", file=sys.stderr)
    if not paths:
        raise InputError("no log file found in what was given", path=logs[0])
    unreadable = {p: not_regular(p) for p in paths if p != "-"}
    if all(unreadable.get(p) for p in paths):  # nothing can be read: a usage error, exit 2
        first = paths[0]
        why = unreadable[first]
        raise InputError(why, path=first)
    ruleset = resolve_rules(rules)
    for u in ruleset.unsupported:  # always named, with file and reason
        print(f"mamori detect: rule not loaded: {safe_text(u.path)}: {safe_text(u.reason)}", file=sys.stderr)
    if not ruleset.rules:
        raise InputError(
            "no usable Sigma rules"
            + (f" ({len(ruleset.unsupported)} unsupported)" if ruleset.unsupported else "")
        )
    if not rules:
        print(f"mamori detect: {bundled_pack_note(len(ruleset.rules))}", file=sys.stderr)
    tieback = None
    if project is not None:
        from mamori.detect._tieback import load_tieback

        if not project.is_dir():
            raise InputError("--project must be a project folder", path=str(project))
        tieback = load_tieback(project)
        if tieback is None:
            print(
                f"mamori detect: {project} has no stored scan; run 'mamori scan {project}' to escalate alerts",
                file=sys.stderr,
            )
    detector = Detector(ruleset, tieback=tieback, since=since_t, until=until_t)
    out: IO[str]
    close = False
    if output is None or output == "-":
        out = sys.stdout
    else:
        try:
            # following appends: a restarted follower keeps the alerts it wrote before
            out = open(output, "a" if follow_logs else "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"cannot write output: {exc.strerror}", path=output) from exc
        close = True
    try:
        if follow_logs:
            code = _run_follow(
                paths, detector, out, fmt, fail_on, project, record=not no_record, rule_paths=rules or ()
            )
        else:
            code = _run_once(
                paths, detector, out, fmt, fail_on, project, record=not no_record, skipped=skipped
            )
    finally:
        if close:
            out.close()
    raise typer.Exit(code)


_SHOWN_ERRORS = 200
"""Problems printed on stderr by a run; the rest are counted there and listed in --format json."""


def _print_errors(errors: Sequence[ScanError], *, limit: int | None = None) -> None:
    shown = errors if limit is None else errors[:limit]
    for e in shown:
        where = e.path + (f":{e.line}" if e.line else "")
        print(f"mamori detect: {safe_text(where)}: {safe_text(e.message)}", file=sys.stderr)
    if len(shown) < len(errors):
        print(
            f"mamori detect: … and {count(len(errors) - len(shown), 'more problem')} (all are listed with --format json)",
            file=sys.stderr,
        )


def safe_text(text: str) -> str:
    """Text from a log made safe for a terminal (see :func:`mamori._terminal.terminal_safe`)."""
    return terminal_safe(text)


def bundled_pack_note(n: int) -> str:
    """What the bundled rule pack covers (said on every run that uses it)."""
    return (
        f"bundled rule pack: {count(n, 'rule')} for web server access logs (SQL injection, XSS, path traversal, "
        "command and template injection, JNDI, exploited CVEs); it has no Windows, Linux or cloud "
        "rules: for those pass --rules with a SigmaHQ checkout (see README, 'Sigma rules')"
    )


def record_alerts(project: Path | None, alerts: Sequence[Alert]) -> None:
    """Store a run's alerts in the results database for the dashboard (a failure only warns)."""
    from mamori.results import record_quietly

    record_quietly(
        lambda store: store.record_alerts(project, alerts),
        lambda msg: print(f"mamori detect: {msg}", file=sys.stderr),
    )


def _render_stix(alerts: Sequence[Alert], out: IO[str]) -> None:
    import json

    from mamori.share.stix import ShareOptions, alerts_to_stix

    bundle = alerts_to_stix([a.to_dict() for a in alerts], ShareOptions())
    out.write(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n")


def _run_once(
    paths: list[str],
    detector: Detector,
    out: IO[str],
    fmt: str,
    fail_on: str,
    project: Path | None,
    *,
    record: bool = True,
    skipped: Sequence[ScanError] = (),
) -> int:
    """Read every file once. JSONL streams alerts as they come; all are recorded at the end."""
    from mamori._progress import RichProgress
    from mamori.detect._readers import read_events

    alerts: list[Alert] = []
    failed = False

    def emit(batch: list[Alert]) -> None:
        nonlocal failed
        if not batch:
            return
        failed = failed or fails(batch, fail_on)
        if fmt == "jsonl":
            for a in batch:
                out.write(a.to_json() + "\n")
        alerts.extend(batch)

    with RichProgress(enabled=sys.stderr.isatty() and len(paths) > 1) as progress:
        progress.start("detect", total=len(paths))
        for p in paths:
            for ev in read_events(p, detector.stats.errors):  # never raises for what a file holds
                emit(detector.process(ev))
            progress.advance()
        progress.finish()
    emit(detector.flush())
    errors = detector.stats.errors
    _print_errors(errors, limit=_SHOWN_ERRORS)
    if fmt == "json":
        import json

        doc = alerts_document(
            alerts,
            errors,
            rules_loaded=len(detector.ruleset.rules) + len(detector.ruleset.correlations),
            unsupported=[
                {"path": u.path, "rule_id": u.rule_id, "reason": u.reason} for u in detector.unsupported
            ],
            events=detector.stats.events,
            version=_version(),
        )
        doc["files"] = {
            "read": len(paths),
            "skipped": [{"path": e.path, "reason": e.message} for e in skipped],
        }
        doc["events_outside_window"] = detector.stats.skipped_by_time
        doc["rules_applicable"] = detector.engine.applicable()
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "stix":
        _render_stix(alerts, out)
    elif fmt == "table":
        _render_table(
            alerts,
            errors,
            out,
            events=detector.stats.events,
            rules=len(detector.ruleset.rules),
            names=detector.tieback.titles if detector.tieback is not None else None,
            skipped=len(skipped),
            applicable=detector.engine.applicable(),
        )
    if record:
        record_alerts(project, alerts)
    return 1 if failed else 0


FOLLOW_RECORD_EVERY = 10.0
"""Seconds between two batches of followed alerts recorded in the results database."""


def _run_follow(
    paths: list[str],
    detector: Detector,
    out: IO[str],
    fmt: str,
    fail_on: str,
    project: Path | None,
    *,
    stop: threading.Event | None = None,
    record: bool = True,
    rule_paths: Sequence[Path] = (),
) -> int:
    """Follow the files until interrupted (or ``stop`` is set); alerts are written as they come
    and recorded in batches (every :data:`FOLLOW_RECORD_EVERY` seconds, and at the end). Rule
    files of ``rule_paths`` that change are loaded again (:mod:`._reload`)."""
    from mamori.detect._follow import follow
    from mamori.detect._reload import RuleReloader

    reloader = (
        RuleReloader(
            rule_paths,
            detector,
            lambda m: print(f"mamori detect: {terminal_safe(m)}", file=sys.stderr, flush=True),
        )
        if rule_paths
        else None
    )

    failed = False
    pending: list[Alert] = []
    last_record = time.monotonic()

    written_at: dict[str, float] = {}  # a log file's modification time, once per polling round
    live = False  # past the first round (what the files held already): latencies mean something

    def on_alert(a: Alert) -> None:
        nonlocal failed
        if live:
            raised = time.time()
            if a.path not in written_at:
                try:
                    written_at[a.path] = os.stat(a.path).st_mtime
                except OSError:
                    written_at[a.path] = raised
            a = replace(a, written=min(written_at[a.path], raised), raised=raised)
        failed = failed or fails([a], fail_on)
        pending.append(a)
        if fmt == "table":
            when = shown_timestamp(a.timestamp) or datetime.now(UTC).isoformat(timespec="seconds")
            line = f"{when} {a.level:<13} {a.title}  ({a.path}:{a.record})"
            if a.escalated:
                names = detector.tieback.titles if detector.tieback is not None else {}
                line += "  ESCALATED: " + "; ".join(names.get(x, x) for x in a.exploits)
            out.write(safe_text(line) + "\n")
        else:
            out.write(a.to_json() + "\n")
        out.flush()

    def on_error(e: ScanError) -> None:
        _print_errors([e])

    def on_tick() -> None:
        nonlocal last_record, live
        live = True
        written_at.clear()
        if reloader is not None:
            reloader.check()
        if not record:
            pending.clear()
        elif pending and time.monotonic() - last_record >= FOLLOW_RECORD_EVERY:
            record_alerts(project, pending)
            pending.clear()
            last_record = time.monotonic()

    stop = stop or threading.Event()
    try:
        follow(paths, detector, on_alert, stop=stop, on_error=on_error, on_tick=on_tick)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if pending and record:
            record_alerts(project, pending)
    return 1 if failed else 0
