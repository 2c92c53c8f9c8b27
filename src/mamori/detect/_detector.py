"""The detect pipeline: events in, alerts out (rules, correlations, time window, tie-back).

:class:`Detector` is what the CLI, the live follower and the demo share: feed it events one at a
time (``process``), then ``flush`` for correlations decided at the end.

Peers' indicators (pulled with ``mamori share pull`` into the local share store) run as rules
too: an event carrying one of their observables (IP address, domain, URL, file hash) raises a
*Peer indicator* alert, so a peer's sighting becomes a local alert. Whether the store holds any
is checked once (and again by ``--follow`` when the store file changes); without indicators,
events pay nothing for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori._text import count
from mamori.detect._alert import Alert
from mamori.detect._cache import default_rule_cache
from mamori.detect._correlate import SUPPORTED_TYPES, CorrelationHit, Correlator
from mamori.detect._engine import Engine
from mamori.detect._events import LogEvent
from mamori.detect._readers import read_events
from mamori.detect._rules import Rule, RuleSet, UnsupportedEntry, bundled_rules_path, load_rules
from mamori.detect._tieback import TieBack
from mamori.model import ScanError

if TYPE_CHECKING:
    from mamori.share._local import IndicatorMatch

PEER_INDICATOR_TAG = "share.peer-indicator"
"""The tag of alerts raised by a peer's indicator."""
PEER_INDICATOR_LEVEL = "high"
MAX_PEER_PATTERN = 64 << 10
"""Longest peer indicator pattern turned into a rule (characters); longer ones are refused unparsed."""


MAX_ERRORS_PER_FILE = 100
"""Errors listed per file; past it they are counted, in one entry that says how many."""


class BoundedErrors(list[ScanError]):
    """The run's errors, at most :data:`MAX_ERRORS_PER_FILE` listed per file (with its line).

    A hostile log of millions of unreadable lines would otherwise hold one error object per
    line (3 million lines: 1.4 GB). Past the cap, one entry per file counts the rest exactly
    ("2,999,900 more errors in this file not shown"); it is updated in place, so every reader
    of the list (text, JSON, follow) shows it without knowing about the cap.
    """

    def __init__(self, per_file: int = MAX_ERRORS_PER_FILE) -> None:
        super().__init__()
        self.per_file = per_file
        self._listed: dict[str, int] = {}
        self._more: dict[str, tuple[int, int]] = {}  # path -> (index of its count entry, count)

    def append(self, error: ScanError) -> None:
        """List ``error``, or count it when its file already has ``per_file`` listed."""
        listed = self._listed.get(error.path, 0)
        if listed < self.per_file:
            self._listed[error.path] = listed + 1
            super().append(error)
            return
        index, more = self._more.get(error.path, (len(self), 0))
        entry = ScanError(
            path=error.path,
            message=f"{count(more + 1, 'more error')} in this file not shown (the first {self.per_file} are)",
        )
        if more == 0:
            super().append(entry)
        else:
            self[index] = entry
        self._more[error.path] = (index, more + 1)

    def extend(self, errors: Iterable[ScanError]) -> None:
        """:meth:`append` each of ``errors``."""
        for e in errors:
            self.append(e)

    def clear(self) -> None:
        """Empty the list and its counts."""
        super().clear()
        self._listed.clear()
        self._more.clear()

    @property
    def total(self) -> int:
        """Every error met, listed or counted."""
        return len(self) - len(self._more) + sum(n for _, n in self._more.values())


@dataclass(slots=True)
class DetectStats:
    """Counters of a run."""

    events: int = 0
    skipped_by_time: int = 0
    alerts: int = 0
    files: int = 0
    errors: list[ScanError] = field(default_factory=BoundedErrors)


class Detector:
    """Runs a rule set over events."""

    def __init__(
        self,
        ruleset: RuleSet,
        *,
        tieback: TieBack | None = None,
        since: float | None = None,
        until: float | None = None,
        peer_indicators: bool = True,
    ) -> None:
        """Compile ``ruleset``; ``peer_indicators=False`` ignores the local share store."""
        self.tieback = tieback
        self.since = since
        self.until = until
        self.stats = DetectStats()
        self._exploits: dict[str, tuple[str, ...]] = {}
        """What each rule's alerts target of the tie-back (by rule id: rebuilt with the rules)."""
        self.use_rules(ruleset)
        self._peers_wanted = peer_indicators
        self._peer_stamp: int | None = None
        self._peer_index: Any = None
        self.peers_active = False
        """Does the local share store hold peers' indicators to apply?"""
        self.refresh_peer_indicators()

    def use_rules(self, ruleset: RuleSet) -> None:
        """Match ``ruleset`` from the next event on (also while following: rules edited on disk).

        The engine and the correlations are compiled anew; the run's counts are kept, and
        correlation windows opened under the old rules start afresh.
        """
        self.ruleset = ruleset
        self.engine = Engine(ruleset.rules)
        self.correlator = Correlator(ruleset.correlations)
        self._exploits.clear()
        referenced = {rid for c in self.correlator.correlations for rid in c.rules}
        self._silent_corr = {
            c.id for c in self.correlator.correlations if c.id in referenced or (c.name or "") in referenced
        }

    def refresh_peer_indicators(self) -> None:
        """Check whether the local share store holds usable peers' indicators.

        Costs one ``stat`` when the store is absent or unchanged since the last check.
        """
        if not self._peers_wanted:
            return
        from mamori.share._local import local_db_path

        try:
            stamp = os.stat(local_db_path()).st_mtime_ns
        except OSError:
            self._peer_stamp = None
            self.peers_active = False
            return
        if stamp == self._peer_stamp:
            return
        self._peer_stamp = stamp
        import sqlite3

        from mamori.share._local import IndicatorIndex, local_indicators

        refused: list[str] = []
        try:
            indicators = local_indicators(max_pattern=MAX_PEER_PATTERN, refused=refused)
        except sqlite3.Error as exc:
            self.stats.errors.append(ScanError(path=str(local_db_path()), message=f"share store: {exc}"))
            self.peers_active = False
            return
        for r in refused[:20]:
            self.stats.errors.append(
                ScanError(
                    path=str(local_db_path()),
                    message=f"peer indicator {r} has a pattern over {MAX_PEER_PATTERN:,} characters; not used",
                )
            )
        if len(refused) > 20:
            self.stats.errors.append(
                ScanError(
                    path=str(local_db_path()),
                    message=f"… and {len(refused) - 20} more oversized peer indicators",
                )
            )
        self._peer_index = IndicatorIndex(indicators)
        self.peers_active = bool(indicators)

    @property
    def unsupported(self) -> tuple[UnsupportedEntry, ...]:
        """Rules not loaded, with reasons (including correlation types not evaluated)."""
        extra = tuple(
            UnsupportedEntry(c.path, f"correlation type {c.type} is not supported", c.id, c.title)
            for c in self.ruleset.correlations
            if c.type not in SUPPORTED_TYPES
        )
        return self.ruleset.unsupported + extra

    def _targets(self, rule_id: str, tags: tuple[str, ...], title: str) -> tuple[str, ...]:
        if self.tieback is None:
            return ()
        hit = self._exploits.get(rule_id)
        if hit is None:
            hit = self.tieback.exploits(tags, title)
            self._exploits[rule_id] = hit
        return hit

    def _make_alert(
        self,
        rule_id: str,
        title: str,
        level: str,
        tags: tuple[str, ...],
        event: LogEvent,
        fields: dict[str, Any],
        correlation: str = "",
    ) -> Alert:
        exploits = self._targets(rule_id, tags, title)
        return Alert(
            rule_id=rule_id,
            title=title,
            level=level,
            timestamp=event.timestamp,
            path=event.path,
            record=event.record,
            tags=tags,
            event=fields,
            escalated=bool(exploits),
            exploits=exploits,
            host=event.host,
            correlation=correlation,
        )

    def _alert(self, rule: Rule, event: LogEvent) -> Alert:
        return self._make_alert(rule.id, rule.title, rule.level, rule.tags, event, event.fields)

    def _corr_alert(self, hit: CorrelationHit) -> Alert:
        c = hit.correlation
        fields = dict(hit.event.fields)
        fields["correlation.group"] = tuple(hit.group) if len(hit.group) != 1 else hit.group[0]
        fields["correlation.value"] = f"{hit.value:g}"
        return self._make_alert(c.id, c.title, c.level, c.tags, hit.event, fields, correlation=c.type)

    def _peer_alert(self, match: IndicatorMatch, event: LogEvent) -> Alert:
        ind = match.indicator
        tags = (PEER_INDICATOR_TAG, *sorted({t for t in ind.labels if t != PEER_INDICATOR_TAG}))
        fields: dict[str, Any] = dict(event.fields)
        fields["share.observable"] = match.observable.value
        fields["share.observable_type"] = match.observable.hash_name or match.observable.kind
        if ind.source:
            fields["share.source"] = ind.source
        return self._make_alert(
            ind.id, f"Peer indicator: {ind.name}", PEER_INDICATOR_LEVEL, tags, event, fields
        )

    def in_window(self, event: LogEvent) -> bool:
        """Is the event inside ``--since``/``--until``? (Events without a time are kept.)"""
        t = event.time
        if t is None:
            return True
        if self.since is not None and t < self.since:
            return False
        return not (self.until is not None and t > self.until)

    def process(self, event: LogEvent) -> list[Alert]:
        """The alerts one event raises."""
        if not self.in_window(event):
            self.stats.skipped_by_time += 1
            return []
        self.stats.events += 1
        out: list[Alert] = []
        for rule in self.engine.match(event):
            if rule.generate:
                out.append(self._alert(rule, event))
            if self.correlator.correlations:
                for hit in self.correlator.feed(rule.id, event):
                    if hit.correlation.id not in self._silent_corr:
                        out.append(self._corr_alert(hit))
        if self.peers_active and self._peer_index is not None:
            fields: Mapping[str, Any] = event.fields
            seen: set[tuple[str, str, str]] = set()
            for m in self._peer_index.matches(fields if isinstance(fields, dict) else dict(fields)):
                # peers often share the same observable under different ids: one alert for it
                key = (m.observable.kind, m.observable.hash_name, m.observable.value.lower())
                if key not in seen:
                    seen.add(key)
                    out.append(self._peer_alert(m, event))
        self.stats.alerts += len(out)
        return out

    def flush(self) -> list[Alert]:
        """Alerts of correlations decided at the end of the input."""
        out = [
            self._corr_alert(h) for h in self.correlator.flush() if h.correlation.id not in self._silent_corr
        ]
        self.stats.alerts += len(out)
        return out

    def run_files(self, paths: Sequence[str]) -> Iterator[Alert]:
        """Alerts of every file in turn (errors collect in ``stats.errors``), then the flush."""
        for p in paths:
            self.stats.files += 1
            for ev in read_events(p, self.stats.errors):
                yield from self.process(ev)
        yield from self.flush()


def resolve_rules(rules: Iterable[Path] | RuleSet | None) -> RuleSet:
    """A rule set from paths (files or folders), an existing set, or the bundled pack (None)."""
    if isinstance(rules, RuleSet):
        return rules
    paths = list(rules) if rules is not None else [bundled_rules_path()]
    if not paths:
        paths = [bundled_rules_path()]
    return load_rules(paths, cache=default_rule_cache())


def expand_log_paths(paths: Iterable[str], skipped: list[ScanError] | None = None) -> list[str]:
    """Files as given; folders become the files in them that look like logs (sorted,
    recursively; see :func:`._readers.sniff_log`); ``-`` stays stdin.

    Files of a folder that are not logs (images, ``.pyc``, ``.gitignore``, text in no log
    shape) are left out and, when ``skipped`` is given, listed there with the reason.
    """
    from mamori.detect._readers import sniff_log

    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            for x in sorted(path.rglob("*")):
                if x.is_dir():
                    continue
                why = sniff_log(x)
                if not why:
                    out.append(str(x))
                elif skipped is not None:
                    skipped.append(ScanError(path=str(x), message=f"skipped: {why}"))
        else:
            out.append(p)
    return out
