"""The detect stage: Sigma rules over real logs, fast and live, tied to the holes a project has.

Logs (EVTX, JSON/JSONL, access logs, syslog, auditd; gzip; stdin) are read as a stream of
flattened events (:mod:`._readers`, :mod:`._events`); the logsource of each event comes from
data (``mappings/``). Sigma rules are parsed by pySigma and compiled to Python predicates with
pre-filter atoms (:mod:`._compile`, :mod:`._rules`); the engine (:mod:`._engine`) evaluates only
the rules an event's logsource and field values point to. Correlation rules run over the hits
(:mod:`._correlate`); with a project, alerts on a CVE or CWE the project has open are escalated
(:mod:`._tieback`). ``mamori detect`` is :func:`.command.detect_command`.

Public API::

    alerts = detect_files(["access.log"])                  # bundled rule pack
    alerts = detect_files(paths, rules=[Path("my-rules")], project=Path("."))
    for a in alerts: print(a.to_json())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from mamori.detect._alert import Alert, alerts_document, summarize
from mamori.detect._detector import Detector, expand_log_paths, resolve_rules
from mamori.detect._events import LogEvent, Logsource
from mamori.detect._readers import read_events
from mamori.detect._rules import (
    Correlation,
    Rule,
    RuleSet,
    UnsupportedEntry,
    bundled_rules_path,
    load_rules,
    load_rules_from_text,
)
from mamori.detect._tieback import TieBack, load_tieback

__all__ = [
    "Alert",
    "Correlation",
    "Detector",
    "LogEvent",
    "Logsource",
    "Rule",
    "RuleSet",
    "TieBack",
    "UnsupportedEntry",
    "alerts_document",
    "bundled_rules_path",
    "detect_files",
    "load_rules",
    "load_rules_from_text",
    "load_tieback",
    "read_events",
    "summarize",
]


def detect_files(
    paths: Sequence[str | Path],
    rules: Iterable[Path] | RuleSet | None = None,
    project: Path | None = None,
) -> list[Alert]:
    """Run Sigma rules over log files and return the alerts (in file and record order).

    ``rules``: rule files or folders, a loaded :class:`RuleSet`, or ``None`` for mamori's bundled
    pack. ``project``: a folder scanned before with ``mamori scan``; alerts on its open holes are
    escalated. Unreadable records are skipped (see :class:`Detector` to get them as errors).
    """
    ruleset = resolve_rules(rules)
    tieback = load_tieback(project) if project is not None else None
    detector = Detector(ruleset, tieback=tieback)
    return list(detector.run_files(expand_log_paths(str(p) for p in paths)))
