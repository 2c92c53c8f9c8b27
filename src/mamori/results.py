"""The results database: what every run found, so later commands can build on it.

``mamori scan`` records each report here; ``mamori detect --project`` reads the last scan of a
project to escalate alerts that target an open finding, and ``mamori serve`` shows the history.
SQLite under ``MAMORI_HOME`` (stdlib ``sqlite3``; one writer at a time, WAL for readers).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.model import Report

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
"""


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
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.executescript(_SCHEMA)
            con.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            yield con
            con.commit()
        finally:
            con.close()

    def record_scan(self, target: Path, report: Report, *, started: datetime | None = None) -> int:
        """Store ``report`` as the newest scan of ``target``; returns the scan id."""
        from mamori.output.jsonout import report_to_dict

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
                    json.dumps(data, separators=(",", ":")),
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


def _key(target: Path) -> str:
    """Scans are keyed by the target's absolute, resolved path."""
    return str(Path(target).resolve())
