"""The detect stage: Sigma rules over real logs, fast and live, tied to the holes a project has.

Logs (EVTX, JSON/JSONL, access logs, syslog, auditd; gzip; stdin) are read as a stream of
flattened events (:mod:`._readers`, :mod:`._events`); the logsource of each event comes from
data (``mappings/``). Sigma rules are parsed by pySigma and compiled to Python predicates with
pre-filter atoms (:mod:`._compile`, :mod:`._rules`); the engine (:mod:`._engine`) evaluates only
the rules an event's logsource and field values point to. Correlation rules run over the hits
(:mod:`._correlate`); with a project, alerts on a CVE or CWE the project has open are escalated
(:mod:`._tieback`). Peers' indicators pulled with ``mamori share pull`` run as rules too, so a
peer's sighting becomes a local alert; ``--format stix`` hands alerts back to the sharing stage.
Every run's alerts are recorded in the results database for the dashboard.
``mamori detect`` is :func:`.command.detect_command`.

Public API::

    alerts = detect_files(["access.log"])                  # bundled rule pack
    alerts = detect_files(paths, rules=[Path("my-rules")], project=Path("."))
    bundle = alerts_to_stix([a.to_dict() for a in alerts], ShareOptions())  # mamori.share.stix
    for a in alerts: print(a.to_json())
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.detect._alert import Alert, alerts_document, summarize
    from mamori.detect._detector import Detector
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

# Loaded on first use: importing the package (as the CLI does to register its command) must not
# pay for pySigma and the rule compiler.
_LAZY = {
    "Alert": "_alert",
    "alerts_document": "_alert",
    "summarize": "_alert",
    "Detector": "_detector",
    "expand_log_paths": "_detector",
    "resolve_rules": "_detector",
    "LogEvent": "_events",
    "Logsource": "_events",
    "read_events": "_readers",
    "Correlation": "_rules",
    "Rule": "_rules",
    "RuleSet": "_rules",
    "UnsupportedEntry": "_rules",
    "bundled_rules_path": "_rules",
    "load_rules": "_rules",
    "load_rules_from_text": "_rules",
    "TieBack": "_tieback",
    "load_tieback": "_tieback",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mamori.detect' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mamori.detect.{module}"), name)


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
    *,
    record: bool = True,
) -> list[Alert]:
    """Run Sigma rules over log files and return the alerts (in file and record order).

    ``rules``: rule files or folders, a loaded :class:`RuleSet`, or ``None`` for mamori's bundled
    pack. ``project``: a folder scanned before with ``mamori scan``; alerts on its open holes are
    escalated. Peers' indicators in the local share store raise alerts too. With ``record``, the
    alerts are stored in the results database for the dashboard. Unreadable records are skipped
    (see :class:`Detector` to get them as errors).
    """
    from mamori.detect._detector import Detector, expand_log_paths, resolve_rules
    from mamori.detect._tieback import load_tieback

    ruleset = resolve_rules(rules)
    tieback = load_tieback(project) if project is not None else None
    detector = Detector(ruleset, tieback=tieback)
    alerts = list(detector.run_files(expand_log_paths(str(p) for p in paths)))
    if record:
        from mamori.detect.command import record_alerts

        record_alerts(project, alerts)
    return alerts
