"""Sigma correlation rules evaluated over the stream of rule hits.

Each correlation keeps, per group (the values of its ``group-by`` fields, through its
``aliases``), a sliding window of ``timespan`` seconds over the hits of the rules it refers to:

* ``event_count``: the number of hits in the window;
* ``value_count``: the number of distinct values of ``field`` in the window;
* ``value_sum`` / ``value_avg`` / ``value_median``: the sum / mean / median of the numeric
  ``field``;
* ``value_percentile``: for each value of ``field``, the share (in percent, 0-100) of the group's
  events in the window that carry it; the condition selects rare (``lte: 1``: at most 1 % of the
  events) or dominant values, and each selected value raises an alert;
* ``temporal``: how many of the referred rules hit in the window (all of them by default);
* ``temporal_ordered``: like temporal, with the hits in the order the rules are listed.

A correlation whose condition can only grow true (gt, gte) fires as soon as it holds and then
starts its window afresh, so a burst gives one alert. Conditions that a later event can still
break (lt, lte, eq, neq on counts) are decided at the end of the input. A correlation fires an alert of its own and feeds the correlations that refer to it
(chains such as *failed logins followed by a success*).
"""

from __future__ import annotations

import statistics
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mamori.detect._events import LogEvent
from mamori.detect._rules import Correlation

_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}
_MONOTONE = {"gt", "gte"}
SUPPORTED_TYPES = frozenset(
    {
        "event_count",
        "value_count",
        "value_sum",
        "value_avg",
        "value_median",
        "value_percentile",
        "temporal",
        "temporal_ordered",
    }
)
_AT_END = frozenset({"value_median", "value_percentile"})
"""Types decided at the end of the input whatever their condition (no value only grows)."""


@dataclass(frozen=True, slots=True)
class CorrelationHit:
    """A correlation that fired: its rule, the event that completed it, and the group."""

    correlation: Correlation
    event: LogEvent
    group: tuple[str, ...]
    value: float
    """The count (or sum, mean) that met the condition."""


@dataclass(slots=True)
class _Group:
    hits: deque[tuple[float, str, Any, LogEvent]] = field(default_factory=deque)
    """(time, referred rule id, field value, event) in arrival order."""


def _lookup(event: LogEvent, name: str) -> Any:
    v = event.fields.get(name)
    if v is None:
        low = name.lower()
        for k, x in event.fields.items():
            if k.lower() == low:
                return x
    return v


class Correlator:
    """Feeds rule hits to correlation rules and returns the correlations that fire."""

    def __init__(self, correlations: Iterable[Correlation]) -> None:
        self.correlations = [c for c in correlations if c.type in SUPPORTED_TYPES]
        self._by_ref: dict[str, list[Correlation]] = {}
        for c in self.correlations:
            for rid in c.rules:
                self._by_ref.setdefault(rid, []).append(c)
        self._state: dict[str, dict[tuple[str, ...], _Group]] = {c.id: {} for c in self.correlations}
        self._last_time = 0.0

    def wants(self, rule_id: str) -> bool:
        """Does any correlation refer to ``rule_id``?"""
        return rule_id in self._by_ref

    def feed(self, rule_id: str, event: LogEvent) -> list[CorrelationHit]:
        """Record that ``rule_id`` hit ``event``; returns the correlations that fire (chains too)."""
        fired: list[CorrelationHit] = []
        pending = [(rule_id, event)]
        while pending:
            rid, ev = pending.pop()
            for c in self._by_ref.get(rid, ()):
                hit = self._feed_one(c, rid, ev)
                if hit is not None:
                    fired.append(hit)
                    pending.append((c.id, ev))
                    if c.name:
                        pending.append((c.name, ev))
        return fired

    def _group_key(self, c: Correlation, rid: str, ev: LogEvent) -> tuple[str, ...] | None:
        aliases = dict(c.aliases)
        key: list[str] = []
        for g in c.group_by:
            fname = g
            if g in aliases:
                mapping = dict(aliases[g])
                fname = mapping.get(rid, g)
            v = _lookup(ev, fname)
            if isinstance(v, tuple):
                v = ",".join(str(x) for x in v)
            key.append("" if v is None else str(v))
        return tuple(key)

    def _feed_one(self, c: Correlation, rid: str, ev: LogEvent) -> CorrelationHit | None:
        t = ev.time if ev.time is not None else self._last_time
        self._last_time = max(self._last_time, t)
        key = self._group_key(c, rid, ev)
        if key is None:
            return None
        groups = self._state[c.id]
        g = groups.setdefault(key, _Group())
        value: Any = None
        if c.field:
            fields = [f.strip() for f in c.field.split(",") if f.strip()]
            vals = [_lookup(ev, f) for f in fields]
            value = tuple(vals) if len(vals) > 1 else vals[0]
        g.hits.append((t, rid, value, ev))
        while g.hits and g.hits[0][0] < t - c.timespan:
            g.hits.popleft()
        if not self._streamed(c):
            return None  # decided when the window closes (flush)
        measured = self._measure(c, g)
        if measured is not None and self._holds(c, measured):
            g.hits.clear()
            return CorrelationHit(c, ev, key, measured)
        return None

    def _streamed(self, c: Correlation) -> bool:
        """Is ``c`` decided as events come (only-growing conditions), not at the end?"""
        return c.type not in _AT_END and all(op in _MONOTONE for op, _ in self._conditions(c))

    @staticmethod
    def _conditions(c: Correlation) -> tuple[tuple[str, float], ...]:
        conds = c.conditions or ((c.op, c.count),)
        if c.type in ("temporal", "temporal_ordered") and conds == (("gte", 1.0),):
            return (("gte", float(len(set(c.rules)))),)  # default: every referred rule
        return conds

    def _holds(self, c: Correlation, measured: float) -> bool:
        return all(_OPS[op](measured, n) for op, n in self._conditions(c))

    def _measure(self, c: Correlation, g: _Group) -> float | None:
        hits = g.hits
        if c.type == "event_count":
            return float(len(hits))
        if c.type == "value_count":
            return float(len({h[2] for h in hits if h[2] is not None}))
        if c.type in ("value_sum", "value_avg", "value_median"):
            nums: list[float] = []
            for h in hits:
                try:
                    nums.append(float(h[2]))
                except (TypeError, ValueError):
                    continue
            if not nums:
                return None
            if c.type == "value_median":
                return float(statistics.median(nums))
            return sum(nums) if c.type == "value_sum" else sum(nums) / len(nums)
        if c.type == "temporal":
            return float(len({h[1] for h in hits}))
        if c.type == "temporal_ordered":
            return float(self._ordered_prefix(c, hits))
        return None

    @staticmethod
    def _ordered_prefix(c: Correlation, hits: Iterable[tuple[float, str, Any, LogEvent]]) -> int:
        """How many of the rules, in their listed order, hit one after the other in the window."""
        order = list(c.rules)
        pos = 0
        for _, rid, _, _ in hits:
            if pos < len(order) and rid == order[pos]:
                pos += 1
            elif pos < len(order) and pos > 0 and rid == order[pos - 1]:
                continue
        return pos

    def flush(self) -> list[CorrelationHit]:
        """Decide the non-monotone correlations, medians and percentiles at the end of the input."""
        out: list[CorrelationHit] = []
        for c in self.correlations:
            if self._streamed(c):
                continue
            for key, g in self._state[c.id].items():
                if not g.hits:
                    continue
                if c.type == "value_percentile":
                    out.extend(self._percentiles(c, key, g))
                else:
                    measured = self._measure(c, g)
                    if measured is not None and self._holds(c, measured):
                        out.append(CorrelationHit(c, g.hits[-1][3], key, measured))
                g.hits.clear()
        return out

    def _percentiles(self, c: Correlation, key: tuple[str, ...], g: _Group) -> list[CorrelationHit]:
        """One hit per value of ``field`` whose share of the window's events meets the condition."""
        counts: Counter[Any] = Counter()
        last: dict[Any, LogEvent] = {}
        for _, _, value, ev in g.hits:
            if value is None:
                continue
            counts[value] += 1
            last[value] = ev
        total = sum(counts.values())
        out = []
        for value, n in counts.items():
            share = 100.0 * n / total
            if self._holds(c, share):
                out.append(CorrelationHit(c, last[value], key, share))
        out.sort(key=lambda h: h.event.record)
        return out
