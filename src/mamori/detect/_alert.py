"""Alerts: what ``mamori detect`` reports, and their renderings (JSONL, JSON, table).

An :class:`Alert` is one rule firing on one event (or a correlation firing on a group of
events). Its JSON form is the public contract (``mamori detect --format jsonl``): rule_id,
title, level (Sigma's names), timestamp, source {path, record}, tags, event, escalated,
exploits. The per-rule and per-host summaries are computed from the alerts.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mamori.detect._events import FieldValue
from mamori.model import ScanError

LEVEL_ORDER: dict[str, int] = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
"""Sigma levels by rank."""


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired on an event."""

    rule_id: str
    title: str
    level: str
    timestamp: str
    path: str
    record: int
    tags: tuple[str, ...] = ()
    event: Mapping[str, FieldValue] = field(default_factory=dict, compare=False, hash=False)
    escalated: bool = False
    exploits: tuple[str, ...] = ()
    """Ids of the open findings of ``--project`` that this alert targets."""
    host: str = ""
    correlation: str = ""
    """The correlation type when a correlation rule raised the alert (else empty)."""
    written: float | None = field(default=None, compare=False)
    """Following only (epoch seconds): when the line was written, as the log file's modification
    time when the follower read it (the last write before the read: for lines written in one
    burst, the latency it gives is a lower bound)."""
    raised: float | None = field(default=None, compare=False)
    """Following only (epoch seconds): when the alert was raised."""

    def to_dict(self) -> dict[str, Any]:
        """The contract JSON object of this alert."""
        d: dict[str, Any] = {
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level,
            "timestamp": self.timestamp,
            "source": {"path": self.path, "record": self.record},
            "tags": list(self.tags),
            "event": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.event.items()},
            "escalated": self.escalated,
            "exploits": list(self.exploits),
        }
        attacker = attacker_fields(self.event)
        if len(attacker) != len(self.event):  # the event names a bystander: say what is the attacker's
            d["attacker"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in attacker.items()}
        if self.host:
            d["host"] = self.host
        if self.correlation:
            d["correlation"] = self.correlation
        if self.written is not None and self.raised is not None:
            d["latency"] = {
                "written": _iso(self.written),
                "raised": _iso(self.raised),
                "seconds": round(max(0.0, self.raised - self.written), 3),
            }
        return d

    def to_json(self) -> str:
        """One JSONL line (no newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_NOT_THE_ATTACKERS = ("useragent", "referer", "referrer")


def attacker_fields(event: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """The fields of an event that say what the attacker sent (source address, requested path,
    payload …): what may become a shared indicator. Fields any client fills in about others —
    the User-Agent (``+http://www.google.com/bot.html``) and the Referer — are left out: a
    domain in them names a bystander, not the attacker."""
    if not any(map(_bystander_field, event)):
        return dict(event)
    return {k: v for k, v in event.items() if not _bystander_field(k)}


@functools.lru_cache(maxsize=65536)
def _bystander_field(key: str) -> bool:
    norm = key.lower().replace("-", "").replace("_", "").replace(".", "")
    return any(w in norm for w in _NOT_THE_ATTACKERS)


def summarize(alerts: Iterable[Alert]) -> dict[str, list[dict[str, Any]]]:
    """Alert counts per rule and per host, most frequent first."""
    by_rule: Counter[tuple[str, str, str]] = Counter()
    by_host: Counter[str] = Counter()
    escalated: Counter[tuple[str, str, str]] = Counter()
    for a in alerts:
        by_rule[(a.rule_id, a.title, a.level)] += 1
        by_host[a.host or "-"] += 1
        if a.escalated:
            escalated[(a.rule_id, a.title, a.level)] += 1
    return {
        "by_rule": [
            {
                "rule_id": rid,
                "title": title,
                "level": level,
                "alerts": n,
                "escalated": escalated[(rid, title, level)],
            }
            for (rid, title, level), n in sorted(
                by_rule.items(), key=lambda kv: (-LEVEL_ORDER.get(kv[0][2], 0), -kv[1], kv[0][1])
            )
        ],
        "by_host": [
            {"host": h, "alerts": n} for h, n in sorted(by_host.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def alerts_document(
    alerts: Sequence[Alert],
    errors: Sequence[ScanError],
    *,
    rules_loaded: int,
    unsupported: Sequence[Mapping[str, str]] = (),
    events: int = 0,
    version: str = "",
) -> dict[str, Any]:
    """The ``--format json`` document: alerts, summaries, errors and the rule counts."""
    return {
        "schema": "mamori.alerts/1",
        "tool": {"name": "mamori", "version": version},
        "events": events,
        "rules": {"loaded": rules_loaded, "unsupported": list(unsupported)},
        "alerts": [a.to_dict() for a in alerts],
        "summary": summarize(alerts),
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
    }


def fails(alerts: Iterable[Alert], fail_on: str) -> bool:
    """Is any alert at or above ``fail_on``?

    ``fail_on`` is a Sigma level or mamori severity (critical, high, medium, low, informational,
    info), ``any``, or a decision: ``act`` (escalated alerts: an attack on a hole you have),
    ``attend`` (high and above), ``track*``/``track`` (any alert).
    """
    level = fail_on.lower()
    if level in ("any", "track", "track*"):
        return any(True for _ in alerts)
    if level == "act":
        return any(a.escalated for a in alerts)
    if level == "attend":
        level = "high"
    if level == "info":
        level = "informational"
    threshold = LEVEL_ORDER[level]
    return any(LEVEL_ORDER.get(a.level, 0) >= threshold for a in alerts)


FAIL_ON_CHOICES = (
    "any",
    "critical",
    "high",
    "medium",
    "low",
    "informational",
    "info",
    "act",
    "attend",
    "track*",
    "track",
)
