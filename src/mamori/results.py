"""The results database: what every run found, so later commands can build on it.

``mamori scan`` records each report here; ``mamori detect --project`` reads the last scan of a
project to escalate alerts that target an open finding, and ``mamori serve`` shows the history.
``mamori fix`` records its fix runs (:meth:`ResultsStore.record_fixes`) and ``mamori detect``
its alerts (:meth:`ResultsStore.record_alerts`), so the dashboard can answer the questions
management asks: what is open and how old (posture), how fast do we move from an advisory to a
verified fix seen in production (speed), and which attacks target a hole we have (attacks).
SQLite under ``MAMORI_HOME`` (stdlib ``sqlite3``; one writer at a time, WAL for readers).

Why one module of about 1,000 lines: every question the dashboard asks is a query over the same
few tables, and keeping the schema, its migrations and the queries together keeps them in step.
"""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori._sqlite import use_wal
from mamori.model import DECISION_ORDER, SEVERITY_ORDER, Report

if TYPE_CHECKING:
    from mamori.detect import Alert
    from mamori.fix.interface import FixReport

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    started TEXT NOT NULL,
    elapsed REAL NOT NULL,
    components INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scans_target ON scans(target, id);
CREATE TABLE IF NOT EXISTS findings (
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    finding_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    decision TEXT,
    PRIMARY KEY (scan_id, finding_id)
);
CREATE INDEX IF NOT EXISTS findings_id ON findings(finding_id);
CREATE TABLE IF NOT EXISTS assets (
    target TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    criticality TEXT NOT NULL,
    exposure TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    started TEXT NOT NULL,
    recorded TEXT NOT NULL,
    after_scan INTEGER NOT NULL,
    total_seconds REAL NOT NULL,
    applied INTEGER NOT NULL,
    method TEXT NOT NULL,
    tests TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fixes (
    run_id INTEGER NOT NULL REFERENCES fix_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    finding_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    why TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    summary TEXT NOT NULL,
    diff TEXT NOT NULL,
    seconds_to_verified REAL,
    verified_at TEXT,
    applied INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS fixes_finding ON fixes(finding_id);
CREATE TABLE IF NOT EXISTS alert_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    recorded TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    run_id INTEGER NOT NULL REFERENCES alert_runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    title TEXT NOT NULL,
    level TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    path TEXT NOT NULL,
    record INTEGER NOT NULL,
    host TEXT NOT NULL,
    escalated INTEGER NOT NULL,
    exploits TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


UNPRIORITISED = "unprioritised"
"""The decision key of findings stored without a priority (scans run with prioritisation off)."""

DECISIONS: tuple[str, ...] = ("act", "attend", "track*", "track", UNPRIORITISED)
"""Decision keys, most urgent first (SSVC's Act, Attend, Track*, Track, then none)."""


@dataclass(frozen=True, slots=True)
class OpenFinding:
    """An open finding of the newest scan of a target, with its asset and age."""

    target: str
    asset: str
    sector: str
    scan_id: int
    first_seen: str
    """When our scans first reported it (ISO 8601)."""
    age_seconds: float
    """Seconds from ``first_seen`` to the time of the query."""
    finding: Mapping[str, Any] = field(compare=False, hash=False)
    """The finding as the JSON report gives it (contract form)."""

    @property
    def id(self) -> str:
        """The finding's stable id."""
        return str(self.finding.get("id", ""))

    @property
    def decision(self) -> str:
        """Its SSVC decision, or ``unprioritised``."""
        return decision_of(self.finding)

    @property
    def severity(self) -> str:
        """Its severity."""
        return str(self.finding.get("severity", "unknown"))


@dataclass(frozen=True, slots=True)
class Posture:
    """Everything open now: the open findings of the newest scan of every target."""

    findings: tuple[OpenFinding, ...]
    at: str
    """When the posture was computed (ISO 8601)."""

    def by_decision(self) -> dict[str, int]:
        """Open findings per decision key (every key of :data:`DECISIONS`, zero when none)."""
        counts = dict.fromkeys(DECISIONS, 0)
        for f in self.findings:
            counts[f.decision] = counts.get(f.decision, 0) + 1
        return counts

    def by_asset(self) -> dict[str, dict[str, int]]:
        """Open findings per asset name, then per decision key."""
        return _group(self.findings, lambda f: f.asset)

    def by_sector(self) -> dict[str, dict[str, int]]:
        """Open findings per sector, then per decision key."""
        return _group(self.findings, lambda f: f.sector)

    def oldest(self, decision: str = "act") -> OpenFinding | None:
        """The open finding with ``decision`` that our scans have reported the longest, if any."""
        pick = [f for f in self.findings if f.decision == decision]
        return min(pick, key=lambda f: (f.first_seen, f.id)) if pick else None

    def select(
        self, *, decision: str | None = None, asset: str | None = None, sector: str | None = None
    ) -> tuple[OpenFinding, ...]:
        """The open findings matching every given filter, most urgent first."""
        return tuple(
            f
            for f in self.findings
            if (decision is None or f.decision == decision)
            and (asset is None or f.asset == asset)
            and (sector is None or f.sector == sector)
        )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Open findings per decision across all targets, right after one stored scan."""

    scan_id: int
    at: str
    target: str
    counts: Mapping[str, int] = field(compare=False, hash=False)

    @property
    def total(self) -> int:
        """All open findings at that point."""
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class SpeedSample:
    """One measured interval: from ``start`` to ``end`` for one finding."""

    finding_id: str
    target: str
    start: str
    end: str
    seconds: float
    group: str
    """The run that closed the interval (``scan 3``, ``fix run 2``): points of the plot over time."""
    label: str = ""
    """What the finding is, in a few words."""


@dataclass(frozen=True, slots=True)
class SpeedFigure:
    """One of the speed figures: its samples, their mean and 90th percentile."""

    key: str
    title: str
    samples: tuple[SpeedSample, ...]
    baseline: int = 0
    """Findings left out because the first scan of their project found them: the time since
    their advisory was published says how old the advisory is, not how fast mamori is."""

    @property
    def mean(self) -> float | None:
        """Mean seconds, or None without samples."""
        return mean([s.seconds for s in self.samples])

    @property
    def p90(self) -> float | None:
        """90th percentile of the seconds, or None without samples."""
        return p90([s.seconds for s in self.samples])

    def series(self) -> tuple[tuple[str, str, float, float, int], ...]:
        """Per closing run, oldest first: (group, time of its last sample, mean, p90, samples)."""
        runs: dict[str, list[SpeedSample]] = {}
        for s in self.samples:
            runs.setdefault(s.group, []).append(s)
        out = []
        for group, items in runs.items():
            secs = [s.seconds for s in items]
            out.append((group, max(s.end for s in items), mean(secs) or 0.0, p90(secs) or 0.0, len(items)))
        return tuple(sorted(out, key=lambda r: (r[1], r[0])))


@dataclass(frozen=True, slots=True)
class FixRecord:
    """One stored fix result."""

    run_id: int
    target: str
    finding_id: str
    rule: str
    kind: str
    status: str
    why: str
    path: str
    line: int
    summary: str
    diff: str
    seconds_to_verified: float | None
    verified_at: str | None
    applied: bool
    run_started: str
    evidence: dict[str, Any] = field(default_factory=dict)
    """The fix's evidence (tests that ran it, coverage, proof) as ``mamori fix --format json`` shows it."""
    dry_run: bool = False

    @property
    def label(self) -> str:
        """The status as a person reads it (``refused`` for ``not_possible``)."""
        return "refused" if self.status == "not_possible" else self.status


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert."""

    run_id: int
    seq: int
    target: str
    recorded: str
    rule_id: str
    title: str
    level: str
    timestamp: str
    path: str
    record: int
    host: str
    escalated: bool
    exploits: tuple[str, ...]

    @property
    def ref(self) -> str:
        """A stable reference for links: ``RUN-SEQ``."""
        return f"{self.run_id}-{self.seq}"


@dataclass(frozen=True, slots=True)
class FindingDetail:
    """A finding as last stored, with its history, its fixes and the alerts that target it."""

    target: str
    asset: str
    sector: str
    scan_id: int
    first_seen: str
    last_seen: str
    open_now: bool
    """True when the newest scan of its target still reports it open."""
    finding: Mapping[str, Any] = field(compare=False, hash=False)
    fixes: tuple[FixRecord, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None for no values."""
    return statistics.fmean(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile (linear interpolation between closest ranks), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = 0.9 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def decision_of(finding: Mapping[str, Any]) -> str:
    """The decision key of a contract-form finding (``unprioritised`` when it has none)."""
    prio = finding.get("priority")
    value = prio.get("decision") if isinstance(prio, Mapping) else None
    return str(value) if value in DECISION_ORDER else UNPRIORITISED


def _group(findings: Iterable[OpenFinding], key: Any) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for f in findings:
        counts = out.setdefault(key(f), dict.fromkeys(DECISIONS, 0))
        counts[f.decision] += 1
    return dict(sorted(out.items()))


def _urgency(f: OpenFinding) -> tuple[object, ...]:
    prio = f.finding.get("priority") or {}
    return (
        DECISIONS.index(f.decision),
        -float(prio.get("score") or 0.0),
        -SEVERITY_ORDER.get(f.severity, 0),
        f.target,
        f.id,
    )


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One stored scan."""

    id: int
    target: str
    started: str
    elapsed: float
    components: int
    findings: int


class ResultsStore:
    """Read and write stored results; each call opens a short-lived connection."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            use_wal(con)
            con.execute("PRAGMA foreign_keys=ON")
            con.executescript(_SCHEMA)
            _add_columns(con)
            con.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            yield con
            con.commit()
        finally:
            con.close()

    def record_scan(self, target: Path, report: Report, *, started: datetime | None = None) -> int:
        """Store ``report`` as the newest scan of ``target``; returns the scan id."""
        from mamori.output.jsonout import dumps_json, report_to_dict

        data = report_to_dict(report)
        when = (started or datetime.now(UTC)).isoformat(timespec="seconds")
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO scans(target, started, elapsed, components, findings, report) VALUES (?,?,?,?,?,?)",
                (
                    _key(target),
                    when,
                    report.elapsed,
                    report.components,
                    len(report.findings),
                    dumps_json(data, indent=None),
                ),
            )
            scan_id = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        scan_id,
                        f["id"],
                        f["kind"],
                        f["rule_id"],
                        f["severity"],
                        f["status"],
                        (f.get("priority") or {}).get("decision"),
                    )
                    for f in data["findings"]
                ],
            )
            asset = _asset_of(target)
            if asset is not None:
                con.execute("INSERT OR REPLACE INTO assets VALUES (?,?,?,?,?)", (_key(target), *asset))
        return scan_id

    def last_scan(self, target: Path) -> dict[str, Any] | None:
        """The stored JSON report (contract form) of the newest scan of ``target``, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT report FROM scans WHERE target = ? ORDER BY id DESC LIMIT 1", (_key(target),)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def last_scan_findings(self, target: Path) -> list[dict[str, Any]] | None:
        """The findings (contract JSON dicts) of the newest scan of ``target``, or None if never scanned."""
        report = self.last_scan(target)
        return None if report is None else list(report.get("findings", []))

    def scans(self, limit: int = 100) -> list[ScanRecord]:
        """The newest stored scans, newest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, target, started, elapsed, components, findings FROM scans ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [ScanRecord(*row) for row in rows]

    # -- fixes and alerts ------------------------------------------------------------------------

    def record_fixes(
        self, target: Path, report: FixReport, *, recorded: datetime | None = None, dry_run: bool = False
    ) -> int:
        """Store one fix run of ``target`` (every result, with its diff); returns the run id.

        ``dry_run`` (or ``report.dry_run``) marks a ``--dry-run`` (nothing was applied;
        ``fix_runs.dry_run`` is 1).

        A verified fix's time is the run's start plus its ``seconds_to_verified``; the run
        remembers the newest scan stored before it, so a later scan can show the fix landed.
        """
        now = recorded or datetime.now(UTC)
        started = now.timestamp() - max(report.total_seconds, 0.0)
        with self._connect() as con:
            after = con.execute("SELECT COALESCE(MAX(id), 0) FROM scans").fetchone()[0]
            cur = con.execute(
                "INSERT INTO fix_runs(target, started, recorded, after_scan, total_seconds, applied, method, tests,"
                " dry_run) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    _key(target),
                    _iso(started),
                    _iso(now.timestamp()),
                    int(after),
                    float(report.total_seconds),
                    int(report.applied),
                    report.verification.method,
                    report.verification.tests,
                    int(dry_run or report.dry_run),
                ),
            )
            run_id = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT INTO fixes(run_id, seq, finding_id, rule, kind, status, why, path, line, summary, diff,"
                " seconds_to_verified, verified_at, applied, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        seq,
                        r.finding_id,
                        r.rule,
                        r.kind,
                        r.status,
                        r.why,
                        r.path,
                        r.line,
                        r.summary,
                        r.diff,
                        r.seconds_to_verified,
                        _iso(started + r.seconds_to_verified)
                        if r.status in ("proven", "verified") and r.seconds_to_verified is not None
                        else None,
                        int(r.applied),
                        json.dumps(asdict(r.evidence), sort_keys=True),
                    )
                    for seq, r in enumerate(report.results)
                ],
            )
        return run_id

    def record_alerts(
        self, project: Path | None, alerts: Iterable[Alert], *, recorded: datetime | None = None
    ) -> int:
        """Store the alerts of one detect run (``project``: the folder they were tied to, if any)."""
        now = recorded or datetime.now(UTC)
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO alert_runs(target, recorded) VALUES (?,?)",
                (_key(project) if project is not None else "", _iso(now.timestamp())),
            )
            run_id = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT INTO alerts (run_id, seq, rule_id, title, level, timestamp, path, record, host,"
                " escalated, exploits, written, raised) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        seq,
                        a.rule_id,
                        a.title,
                        a.level,
                        a.timestamp,
                        a.path,
                        a.record,
                        a.host,
                        int(a.escalated),
                        json.dumps(list(a.exploits)),
                        a.written,
                        a.raised,
                    )
                    for seq, a in enumerate(alerts)
                ],
            )
        return run_id

    # -- the dashboard's questions -------------------------------------------------------------

    def posture(self, *, now: datetime | None = None, upto_scan: int | None = None) -> Posture:
        """The open findings of the newest scan of every target, most urgent first.

        ``upto_scan``: as it was right after that scan (each target's newest scan up to it), the
        findings behind one point of :meth:`trend`.
        """
        at = now or datetime.now(UTC)
        out: list[OpenFinding] = []
        with self._connect() as con:
            latest = con.execute(
                "SELECT s.id, s.target, s.report FROM scans s"
                " JOIN (SELECT target, MAX(id) AS id FROM scans WHERE id <= ? GROUP BY target) l ON l.id = s.id",
                (upto_scan if upto_scan is not None else 2**62,),
            ).fetchall()
            assets = _assets(con)
            for scan_id, target, text in latest:
                first = dict(
                    con.execute(
                        "SELECT f.finding_id, MIN(s.started) FROM findings f JOIN scans s ON s.id = f.scan_id"
                        " WHERE s.target = ? GROUP BY f.finding_id",
                        (target,),
                    ).fetchall()
                )
                name, sector = assets.get(target, (Path(target).name, ""))
                for f in _report_findings(text):
                    if f.get("status", "open") != "open":
                        continue
                    seen = str(first.get(f.get("id"), "")) or at.isoformat()
                    out.append(
                        OpenFinding(
                            target=target,
                            asset=name or Path(target).name,
                            sector=sector or "unspecified",
                            scan_id=scan_id,
                            first_seen=seen,
                            age_seconds=max(0.0, _seconds(seen, at)),
                            finding=f,
                        )
                    )
        return Posture(tuple(sorted(out, key=_urgency)), at.isoformat(timespec="seconds"))

    def trend(self) -> tuple[TrendPoint, ...]:
        """After each stored scan, oldest first: open findings per decision over all targets
        (each target counts with its newest scan so far)."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT s.id, s.target, s.started, f.decision, COUNT(f.finding_id) FROM scans s"
                " LEFT JOIN findings f ON f.scan_id = s.id AND f.status = 'open'"
                " GROUP BY s.id, f.decision ORDER BY s.id"
            ).fetchall()
        per_scan: dict[int, tuple[str, str, dict[str, int]]] = {}
        for scan_id, target, started, decision, n in rows:
            entry = per_scan.setdefault(scan_id, (target, started, dict.fromkeys(DECISIONS, 0)))
            if n:
                key = decision if decision in DECISION_ORDER else UNPRIORITISED
                entry[2][key] += int(n)
        state: dict[str, dict[str, int]] = {}
        points = []
        for scan_id, (target, started, counts) in per_scan.items():
            state[target] = counts
            total = dict.fromkeys(DECISIONS, 0)
            for c in state.values():
                for k, v in c.items():
                    total[k] += v
            points.append(TrendPoint(scan_id, started, target, total))
        return tuple(points)

    def speed(self) -> tuple[SpeedFigure, SpeedFigure, SpeedFigure]:
        """The three speed figures: advisory published → first detected by our scans; detected →
        verified fix; verified fix → a later scan of the target no longer reports the finding."""
        exposure: list[SpeedSample] = []
        to_fix: list[SpeedSample] = []
        to_seen: list[SpeedSample] = []
        baseline = 0
        with self._connect() as con:
            first: dict[tuple[str, str], str] = {}
            first_scan: dict[str, int] = {}
            for scan_id, target, started, text in con.execute(
                "SELECT id, target, started, report FROM scans ORDER BY id"
            ):
                first_scan.setdefault(target, scan_id)
                for f in _report_findings(text):
                    key = (target, str(f.get("id", "")))
                    if key in first:
                        continue
                    first[key] = started
                    advisory = f.get("advisory") or {}
                    published = advisory.get("published") if isinstance(advisory, Mapping) else None
                    if f.get("kind") != "dependency" or not published or not _parse(str(published)):
                        continue
                    if first_scan[target] == scan_id:
                        baseline += 1  # the first look at a project: no speed to measure
                        continue
                    exposure.append(
                        SpeedSample(
                            key[1],
                            target,
                            str(published),
                            started,
                            max(0.0, _seconds(str(published), started)),
                            f"scan {scan_id}",
                            _label(f),
                        )
                    )
            fixes = con.execute(
                "SELECT x.run_id, r.target, r.started, r.after_scan, x.finding_id, x.rule, x.path, x.line,"
                " x.verified_at, x.applied FROM fixes x JOIN fix_runs r ON r.id = x.run_id"
                " WHERE x.status = 'verified' AND x.verified_at IS NOT NULL ORDER BY x.run_id, x.seq"
            ).fetchall()
            for run_id, target, run_started, after, fid, rule, path, line, verified_at, applied in fixes:
                label = f"{rule} {path}:{line}" if line else f"{rule} {path}"
                detected = first.get((target, fid), run_started)
                to_fix.append(
                    SpeedSample(
                        fid,
                        target,
                        detected,
                        verified_at,
                        max(0.0, _seconds(detected, verified_at)),
                        f"fix run {run_id}",
                        label,
                    )
                )
                if not applied:
                    continue
                later = con.execute(
                    "SELECT s.id, s.started FROM scans s WHERE s.target = ? AND s.id > ? AND NOT EXISTS"
                    " (SELECT 1 FROM findings f WHERE f.scan_id = s.id AND f.finding_id = ? AND f.status = 'open')"
                    " ORDER BY s.id LIMIT 1",
                    (target, after, fid),
                ).fetchone()
                if later is not None:
                    to_seen.append(
                        SpeedSample(
                            fid,
                            target,
                            verified_at,
                            later[1],
                            max(0.0, _seconds(verified_at, later[1])),
                            f"scan {later[0]}",
                            label,
                        )
                    )
        return (
            SpeedFigure(
                "published-to-detected",
                "Advisory published → detected in our assets",
                tuple(exposure),
                baseline,
            ),
            SpeedFigure("detected-to-fixed", "Detected → verified fix", tuple(to_fix)),
            SpeedFigure("fixed-to-seen", "Verified fix → fixed version seen in a later scan", tuple(to_seen)),
        )

    def alerts(self, *, limit: int = 1000) -> tuple[AlertRecord, ...]:
        """Stored alerts, escalated ones first, then newest first."""
        with self._connect() as con:
            rows = con.execute(
                _ALERTS_SQL + " ORDER BY a.escalated DESC, a.timestamp DESC, a.run_id DESC, a.seq LIMIT ?",
                (limit,),
            ).fetchall()
        return tuple(_alert(r) for r in rows)

    def detection_latencies(self) -> tuple[tuple[str, float], ...]:
        """(sector, seconds from the line written to the alert raised) of every alert a follower
        raised; the sector is that of the project the alerts were tied to (``unspecified``
        without one)."""
        with self._connect() as con:
            assets = _assets(con)
            rows = con.execute(
                "SELECT r.target, a.written, a.raised FROM alerts a JOIN alert_runs r ON r.id = a.run_id"
                " WHERE a.written IS NOT NULL AND a.raised IS NOT NULL"
            ).fetchall()
        return tuple(
            ((assets.get(t, ("", ""))[1] or "unspecified"), max(0.0, float(raised) - float(written)))
            for t, written, raised in rows
        )

    def alert_counts(self) -> tuple[int, int]:
        """How many alerts are stored, and how many of them are escalated (all, not one page)."""
        with self._connect() as con:
            row = con.execute("SELECT COUNT(*), COALESCE(SUM(escalated <> 0), 0) FROM alerts").fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def alert(self, ref: str) -> AlertRecord | None:
        """One stored alert by its :attr:`AlertRecord.ref`, or None."""
        run, _, seq = ref.partition("-")
        if not (run.isdigit() and seq.isdigit()):
            return None
        with self._connect() as con:
            row = con.execute(
                _ALERTS_SQL + " WHERE a.run_id = ? AND a.seq = ?", (int(run), int(seq))
            ).fetchone()
        return _alert(row) if row else None

    def fixes_for(self, finding_id: str) -> tuple[FixRecord, ...]:
        """Every stored fix result for a finding, newest run first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT x.run_id, r.target, x.finding_id, x.rule, x.kind, x.status, x.why, x.path, x.line,"
                " x.summary, x.diff, x.seconds_to_verified, x.verified_at, x.applied, r.started, x.evidence,"
                " r.dry_run FROM fixes x JOIN fix_runs r ON r.id = x.run_id WHERE x.finding_id = ?"
                " ORDER BY x.run_id DESC, x.seq",
                (finding_id,),
            ).fetchall()
        return tuple(_fix_record(r) for r in rows)

    def finding(self, finding_id: str) -> FindingDetail | None:
        """A finding as its newest stored scan reports it, with history, fixes and alerts; or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT s.id, s.target, s.report FROM findings f JOIN scans s ON s.id = f.scan_id"
                " WHERE f.finding_id = ? ORDER BY s.id DESC LIMIT 1",
                (finding_id,),
            ).fetchone()
            if row is None:
                return None
            scan_id, target, text = row
            first, last = con.execute(
                "SELECT MIN(s.started), MAX(s.started) FROM findings f JOIN scans s ON s.id = f.scan_id"
                " WHERE f.finding_id = ? AND s.target = ?",
                (finding_id, target),
            ).fetchone()
            newest = con.execute("SELECT MAX(id) FROM scans WHERE target = ?", (target,)).fetchone()[0]
            open_now = (
                con.execute(
                    "SELECT 1 FROM findings WHERE scan_id = ? AND finding_id = ? AND status = 'open'",
                    (newest, finding_id),
                ).fetchone()
                is not None
            )
            name, sector = _assets(con).get(target, (Path(target).name, ""))
            alert_rows = con.execute(
                _ALERTS_SQL + " WHERE a.exploits LIKE ? ORDER BY a.escalated DESC, a.timestamp DESC",
                (f'%"{finding_id}"%',),
            ).fetchall()
        finding = next((f for f in _report_findings(text) if f.get("id") == finding_id), {})
        return FindingDetail(
            target=target,
            asset=name or Path(target).name,
            sector=sector or "unspecified",
            scan_id=scan_id,
            first_seen=first,
            last_seen=last,
            open_now=open_now,
            finding=finding,
            fixes=self.fixes_for(finding_id),
            alerts=tuple(a for a in (_alert(r) for r in alert_rows) if finding_id in a.exploits),
        )


def _key(target: Path) -> str:
    """Scans are keyed by the target's absolute, resolved path."""
    return str(Path(target).resolve())


_ALERTS_SQL = (
    "SELECT a.run_id, a.seq, r.target, r.recorded, a.rule_id, a.title, a.level, a.timestamp, a.path,"
    " a.record, a.host, a.escalated, a.exploits FROM alerts a JOIN alert_runs r ON r.id = a.run_id"
)


def _alert(row: Sequence[Any]) -> AlertRecord:
    try:
        exploits = tuple(str(x) for x in json.loads(row[12]))
    except (ValueError, TypeError):
        exploits = ()
    run_id, seq, target, recorded, rule_id, title, level, timestamp, path, record, host = row[:11]
    return AlertRecord(
        run_id,
        seq,
        target,
        recorded,
        rule_id,
        title,
        level,
        timestamp,
        path,
        record,
        host,
        bool(row[11]),
        exploits,
    )


_ADDED_COLUMNS = (
    ("fixes", "evidence", "TEXT NOT NULL DEFAULT '{}'"),
    ("fix_runs", "dry_run", "INTEGER NOT NULL DEFAULT 0"),
    ("alerts", "written", "REAL"),
    ("alerts", "raised", "REAL"),
)
"""Columns added after a table was first created: a database written by an older mamori gets them."""


def _add_columns(con: sqlite3.Connection) -> None:
    """Add the columns newer versions added to older tables, once: the check and the change
    under one write lock (two processes opening an old or new database at once each saw the
    column missing and the second failed with "duplicate column name": a follower's batch of
    alerts was lost while the dashboard read)."""

    def missing() -> list[tuple[str, str, str]]:
        out = []
        for table, column, decl in _ADDED_COLUMNS:
            have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                out.append((table, column, decl))
        return out

    if not missing():
        return
    con.commit()
    con.execute("BEGIN IMMEDIATE")
    try:
        for table, column, decl in missing():
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fix_record(r: Sequence[Any]) -> FixRecord:
    run_id, target, fid, rule, kind, status, why, path, line, summary, diff, secs, verified_at = r[:13]
    return FixRecord(
        run_id,
        target,
        fid,
        rule,
        kind,
        status,
        why,
        path,
        line,
        summary,
        diff,
        secs,
        verified_at,
        bool(r[13]),
        r[14],
        _evidence(r[15]) if len(r) > 15 else {},
        bool(r[16]) if len(r) > 16 else False,
    )


def _evidence(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _assets(con: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return {t: (n, s) for t, n, s in con.execute("SELECT target, name, sector FROM assets")}


def _asset_of(target: Path) -> tuple[str, str, str, str] | None:
    """The ``[asset]`` settings of a scanned folder (None when it has none or they do not load)."""
    from mamori.config import load_project_config
    from mamori.errors import MamoriError
    from mamori.prioritize import asset_context

    root = Path(target)
    root = root if root.is_dir() else root.parent
    try:
        ctx = asset_context(load_project_config(root))
    except (MamoriError, OSError, ValueError):
        return None
    return (ctx.name, ctx.sector, str(ctx.criticality), str(ctx.exposure))


def _report_findings(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found = data.get("findings") if isinstance(data, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _label(f: Mapping[str, Any]) -> str:
    pkg = f.get("package")
    if isinstance(pkg, Mapping):
        return f"{pkg.get('name')} {pkg.get('version')} {f.get('rule_id')}"
    loc = f.get("location") or {}
    return f"{f.get('rule_id')} {loc.get('path', '')}:{loc.get('line', 0)}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def _parse(text: str) -> datetime | None:
    """An aware datetime from ISO 8601 (``Z`` allowed, naive means UTC), or None."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _seconds(start: str | datetime, end: str | datetime) -> float:
    """Seconds from ``start`` to ``end`` (0 when either is not a time)."""
    a = start if isinstance(start, datetime) else _parse(start)
    b = end if isinstance(end, datetime) else _parse(end)
    return (b - a).total_seconds() if a is not None and b is not None else 0.0


def record_quietly(write: Callable[[ResultsStore], object], warn: Callable[[str], None]) -> None:
    """Run ``write`` on the results database of ``MAMORI_HOME``; a failure only warns.

    Recording feeds the dashboard and the tie-back: it must never make the command that did the
    real work fail.
    """
    from mamori.config import results_db_path

    try:
        write(ResultsStore(results_db_path()))
    except (OSError, sqlite3.Error) as exc:
        warn(f"could not record the results for the dashboard: {exc}")
