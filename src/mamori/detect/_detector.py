"""The detect pipeline: events in, alerts out (rules, correlations, time window, tie-back).

:class:`Detector` is what the CLI, the live follower and the demo share: feed it events one at a
time (``process``), then ``flush`` for correlations decided at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mamori.detect._alert import Alert
from mamori.detect._correlate import SUPPORTED_TYPES, CorrelationHit, Correlator
from mamori.detect._engine import Engine
from mamori.detect._events import LogEvent
from mamori.detect._readers import read_events
from mamori.detect._rules import Rule, RuleSet, UnsupportedEntry, bundled_rules_path, load_rules
from mamori.detect._tieback import TieBack
from mamori.model import ScanError


@dataclass(slots=True)
class DetectStats:
    """Counters of a run."""

    events: int = 0
    skipped_by_time: int = 0
    alerts: int = 0
    files: int = 0
    errors: list[ScanError] = field(default_factory=list)


class Detector:
    """Runs a rule set over events."""

    def __init__(
        self,
        ruleset: RuleSet,
        *,
        tieback: TieBack | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.engine = Engine(ruleset.rules)
        self.correlator = Correlator(ruleset.correlations)
        self.tieback = tieback
        self.since = since
        self.until = until
        self.stats = DetectStats()
        self._exploits: dict[str, tuple[str, ...]] = {}
        referenced = {rid for c in self.correlator.correlations for rid in c.rules}
        self._silent_corr = {
            c.id for c in self.correlator.correlations if c.id in referenced or (c.name or "") in referenced
        }

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

    def _alert(self, rule: Rule, event: LogEvent) -> Alert:
        exploits = self._targets(rule.id, rule.tags, rule.title)
        return Alert(
            rule_id=rule.id,
            title=rule.title,
            level=rule.level,
            timestamp=event.timestamp,
            path=event.path,
            record=event.record,
            tags=rule.tags,
            event=event.fields,
            escalated=bool(exploits),
            exploits=exploits,
            host=event.host,
        )

    def _corr_alert(self, hit: CorrelationHit) -> Alert:
        c = hit.correlation
        exploits = self._targets(c.id, c.tags, c.title)
        ev = hit.event
        event = dict(ev.fields)
        event["correlation.group"] = tuple(hit.group) if len(hit.group) != 1 else hit.group[0]
        event["correlation.value"] = f"{hit.value:g}"
        return Alert(
            rule_id=c.id,
            title=c.title,
            level=c.level,
            timestamp=ev.timestamp,
            path=ev.path,
            record=ev.record,
            tags=c.tags,
            event=event,
            escalated=bool(exploits),
            exploits=exploits,
            host=ev.host,
            correlation=c.type,
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
    return load_rules(paths)


def expand_log_paths(paths: Iterable[str]) -> list[str]:
    """Files as given; folders become their files (sorted, recursively); ``-`` stays stdin."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(str(x) for x in sorted(path.rglob("*")) if x.is_file())
        else:
            out.append(p)
    return out
