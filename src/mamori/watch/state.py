"""The service's durable state in one SQLite file (``MAMORI_HOME/watch.sqlite``).

Why SQLite: the queue must survive ``kill -9`` at any instant, and the index and cursors must
change together with the jobs they create. SQLite in WAL mode with ``synchronous=FULL`` makes
every committed transaction durable, and one file needs no server.

Tables:

* ``jobs``: the queue. A job's ``key`` is unique, so enqueuing the same work twice is a no-op
  (the idempotency of every reaction starts here). A job being worked on is ``running`` with
  the pid and a per-process token of its worker; one whose worker is gone is taken again.
  ``step`` records how far a multi-step job (a proposal) got, so a restart resumes there.
* ``cursors``: per feed, what was seen last (OSV's newest ``modified`` per ecosystem, the KEV
  catalogue's CVE list, the watched branch's commit).
* ``components``: the component index, every project's dependencies (no fleet rescan when an
  advisory changes: a lookup by ecosystem and name finds the projects it may hit).
* ``findings``: each project's open dependency findings with their decision (what a KEV or
  EPSS change re-ranks).
* ``proposals``: one row per (project, advisory id, component, target version), unique: a fix
  is never proposed twice.
* ``timeline``: when each step of the loop happened (published, seen, matched, fixed, proposed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori._sqlite import use_wal
from mamori.errors import InputError

SCHEMA_VERSION = 1
MAX_ATTEMPTS = 5
"""A job that fails this many times is left ``failed`` (shown by ``watch status``)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'queued', step TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER, owner_token TEXT, not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL, updated REAL NOT NULL, error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, not_before, id);
CREATE TABLE IF NOT EXISTS cursors (feed TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS components (
    project TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,
    record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS components_by_package ON components(ecosystem, name);
CREATE INDEX IF NOT EXISTS components_by_project ON components(project, path);
CREATE TABLE IF NOT EXISTS findings (
    project TEXT NOT NULL, finding_id TEXT NOT NULL, ids TEXT NOT NULL, component TEXT NOT NULL,
    decision TEXT NOT NULL, score REAL NOT NULL, record TEXT NOT NULL, PRIMARY KEY (project, finding_id));
CREATE TABLE IF NOT EXISTS proposals (
    project TEXT NOT NULL, advisory TEXT NOT NULL, component TEXT NOT NULL, target TEXT NOT NULL,
    branch TEXT NOT NULL, state TEXT NOT NULL, url TEXT NOT NULL DEFAULT '', number INTEGER,
    commit_sha TEXT NOT NULL DEFAULT '', created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (project, advisory, component, target));
CREATE TABLE IF NOT EXISTS timeline (
    subject TEXT NOT NULL, step TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (subject, step));
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, at REAL NOT NULL, message TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed job."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    step: str
    attempts: int


def _alive(pid: int) -> bool:
    from mamori.sandbox import pid_alive

    return pid_alive(pid)


class WatchState:
    """The state database at ``path``; one connection per instance (one per process)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            use_wal(self._conn)
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA busy_timeout = 30000")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise InputError(
                    f"watch state has schema {version}, this mamori needs {SCHEMA_VERSION}; move it aside",
                    path=str(self.path),
                )
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a mamori watch state database ({exc})", path=str(self.path)) from exc

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): everything inside commits together or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ the queue

    def enqueue(self, key: str, kind: str, payload: dict[str, Any], *, delay: float = 0.0) -> bool:
        """Queue a job unless one with ``key`` exists (done or not); True when it was added."""
        now = time.time()
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO jobs (key, kind, payload, project, created, updated, not_before) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                kind,
                json.dumps(payload, sort_keys=True),
                str(payload.get("project", "")),
                now,
                now,
                now + delay,
            ),
        )
        return cur.rowcount == 1

    def claim(self, *, skip: tuple[str, ...] = ()) -> Job | None:
        """Take the oldest runnable job (queued, or running for a worker that is gone).

        A job of a project another live worker is working on waits (one job per project at a
        time). Fix jobs (a sandboxed test run, seconds each) come after every other kind: a verified
        fix is pushed and proposed, and a KEV addition escalated, without waiting behind the
        fixes of other projects. ``skip``: job kinds this worker does not take (the service's
        quick lane skips ``fix``).
        """
        now = time.time()
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT id, state, owner_pid, owner_token, project, kind FROM jobs "
                "WHERE state IN ('queued', 'running') AND not_before <= ? "
                "ORDER BY CASE kind WHEN 'fix' THEN 1 ELSE 0 END, id",
                (now,),
            ).fetchall()
            live = {
                r[0]
                for r in rows
                if r[1] == "running" and (r[3] == self.token or (r[2] and _alive(int(r[2]))))
            }
            # one job per project at a time: two workers never share a project's checkout
            busy = {r[4] for r in rows if r[0] in live and r[4]}
            for job_id, _state, _pid, _token, project, kind in rows:
                if job_id in live or (project and project in busy) or kind in skip:
                    continue
                conn.execute(
                    "UPDATE jobs SET state='running', owner_pid=?, owner_token=?, attempts=attempts+1, "
                    "updated=? WHERE id=?",
                    (os.getpid(), self.token, now, job_id),
                )
                got = conn.execute(
                    "SELECT id, key, kind, payload, step, attempts FROM jobs WHERE id=?", (job_id,)
                ).fetchone()
                return Job(got[0], got[1], got[2], json.loads(got[3]), got[4], got[5])
        return None

    def set_step(self, job: Job, step: str) -> None:
        """Record that ``job`` finished ``step`` (a restart resumes after it)."""
        self._conn.execute("UPDATE jobs SET step=?, updated=? WHERE id=?", (step, time.time(), job.id))

    def finish(self, job: Job) -> None:
        """The job is done."""
        self._conn.execute(
            "UPDATE jobs SET state='done', owner_pid=NULL, owner_token=NULL, error='', updated=? WHERE id=?",
            (time.time(), job.id),
        )

    def fail(self, job: Job, error: str) -> bool:
        """The job failed: retried later (with back-off) until :data:`MAX_ATTEMPTS`; True when given up."""
        give_up = job.attempts >= MAX_ATTEMPTS
        self._conn.execute(
            "UPDATE jobs SET state=?, owner_pid=NULL, owner_token=NULL, error=?, not_before=?, updated=? "
            "WHERE id=?",
            (
                "failed" if give_up else "queued",
                error[:2000],
                time.time() + min(300.0, 2.0**job.attempts),
                time.time(),
                job.id,
            ),
        )
        return give_up

    def pending(self) -> int:
        """Jobs not yet done or failed."""
        return int(
            self._conn.execute("SELECT COUNT(*) FROM jobs WHERE state IN ('queued','running')").fetchone()[0]
        )

    def job_counts(self) -> dict[str, int]:
        """Jobs per state."""
        return {s: int(n) for s, n in self._conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state")}

    def failed_jobs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest failed jobs with their errors."""
        rows = self._conn.execute(
            "SELECT key, kind, attempts, error FROM jobs WHERE state='failed' ORDER BY updated DESC LIMIT ?",
            (limit,),
        )
        return [{"key": k, "kind": kind, "attempts": a, "error": e} for k, kind, a, e in rows]

    # ------------------------------------------------------------------ cursors

    def cursor(self, feed: str) -> str | None:
        """What feed ``feed`` saw last, or None before its first poll."""
        row = self._conn.execute("SELECT value FROM cursors WHERE feed=?", (feed,)).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, feed: str, value: str) -> None:
        """Move feed ``feed``'s cursor (inside the caller's transaction, with the jobs it queued)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO cursors (feed, value, updated) VALUES (?, ?, ?)",
            (feed, value, time.time()),
        )

    def cursors(self) -> dict[str, tuple[str, float]]:
        """Every cursor with when it moved."""
        return {f: (v, u) for f, v, u in self._conn.execute("SELECT feed, value, updated FROM cursors")}

    # ------------------------------------------------------------------ component index

    def replace_components(
        self, project: str, rows: Iterable[tuple[str, str, str, str]], paths: Iterable[str] | None = None
    ) -> None:
        """Replace the index rows of ``project`` (only those of ``paths`` when given).

        ``rows`` are (ecosystem, normalised name, path, JSON record of the component).
        """
        if paths is None:
            self._conn.execute("DELETE FROM components WHERE project=?", (project,))
        else:
            self._conn.executemany(
                "DELETE FROM components WHERE project=? AND path=?", [(project, p) for p in paths]
            )
        self._conn.executemany(
            "INSERT INTO components (project, ecosystem, name, path, record) VALUES (?, ?, ?, ?, ?)",
            [(project, *r) for r in rows],
        )

    def projects_using(self, ecosystem: str, name: str) -> list[str]:
        """Projects whose index holds the package (base ecosystem, normalised name)."""
        rows = self._conn.execute(
            "SELECT DISTINCT project FROM components WHERE ecosystem=? AND name=? ORDER BY project",
            (ecosystem, name),
        )
        return [r[0] for r in rows]

    def components_of(self, project: str) -> list[dict[str, Any]]:
        """The index records of one project."""
        rows = self._conn.execute("SELECT record FROM components WHERE project=? ORDER BY rowid", (project,))
        return [json.loads(r[0]) for r in rows]

    def ecosystems(self) -> list[str]:
        """Base ecosystems of every indexed component (what the OSV feed polls)."""
        return [
            r[0] for r in self._conn.execute("SELECT DISTINCT ecosystem FROM components ORDER BY ecosystem")
        ]

    def component_count(self) -> dict[str, int]:
        """Indexed components per project."""
        return {
            p: int(n)
            for p, n in self._conn.execute("SELECT project, COUNT(*) FROM components GROUP BY project")
        }

    # ------------------------------------------------------------------ findings

    def replace_findings(self, project: str, rows: Iterable[tuple[str, str, str, str, float, str]]) -> None:
        """Replace ``project``'s findings: (finding id, ids JSON, component, decision, score, record JSON)."""
        self._conn.execute("DELETE FROM findings WHERE project=?", (project,))
        self._conn.executemany(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)", [(project, *r) for r in rows]
        )

    def findings_of(self, project: str | None = None) -> list[dict[str, Any]]:
        """Stored findings (of one project, or all) as records with ``project`` added."""
        sql = "SELECT project, record FROM findings"
        args: tuple[Any, ...] = ()
        if project is not None:
            sql += " WHERE project=?"
            args = (project,)
        return [
            {**json.loads(rec), "project": p}
            for p, rec in self._conn.execute(sql + " ORDER BY project, score DESC", args)
        ]

    def projects_with_ids(self, ids: Iterable[str]) -> list[str]:
        """Projects with a finding that names any of ``ids`` (CVE, GHSA …, upper-case)."""
        wanted = {i.upper() for i in ids}
        out: set[str] = set()
        for project, raw in self._conn.execute("SELECT project, ids FROM findings"):
            if wanted & {i.upper() for i in json.loads(raw)}:
                out.add(project)
        return sorted(out)

    # ------------------------------------------------------------------ proposals

    def proposal(self, project: str, advisory: str, component: str, target: str) -> dict[str, Any] | None:
        """The proposal row of one fix identity, or None."""
        row = self._conn.execute(
            "SELECT branch, state, url, number, commit_sha FROM proposals "
            "WHERE project=? AND advisory=? AND component=? AND target=?",
            (project, advisory, component, target),
        ).fetchone()
        if row is None:
            return None
        return {"branch": row[0], "state": row[1], "url": row[2], "number": row[3], "commit": row[4]}

    def proposed_for(self, project: str, advisory: str, component: str) -> list[dict[str, Any]]:
        """Every proposal (any target) for an advisory in a component of a project."""
        rows = self._conn.execute(
            "SELECT target, branch, state, url FROM proposals WHERE project=? AND advisory=? AND component=?",
            (project, advisory, component),
        )
        return [{"target": t, "branch": b, "state": s, "url": u} for t, b, s, u in rows]

    def add_proposal(self, project: str, advisory: str, component: str, target: str, branch: str) -> bool:
        """Claim a fix identity for a proposal; False when it was claimed before."""
        now = time.time()
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO proposals (project, advisory, component, target, branch, state, created, updated) "
            "VALUES (?, ?, ?, ?, ?, 'planned', ?, ?)",
            (project, advisory, component, target, branch, now, now),
        )
        return cur.rowcount == 1

    def update_proposals(self, branch: str, project: str, **values: Any) -> None:
        """Set columns (state, url, number, commit_sha) on every proposal of one branch."""
        cols = ", ".join(f"{k}=?" for k in values)
        self._conn.execute(
            f"UPDATE proposals SET {cols}, updated=? WHERE project=? AND branch=?",
            (*values.values(), time.time(), project, branch),
        )

    def open_requests(self) -> list[tuple[str, str, int]]:
        """(project, branch, request number) of proposals whose request is not merged yet."""
        rows = self._conn.execute(
            "SELECT DISTINCT project, branch, number FROM proposals WHERE state='proposed' AND number IS NOT NULL"
        )
        return [(p, b, int(n)) for p, b, n in rows]

    def subjects_of_branch(self, project: str, branch: str) -> list[str]:
        """Timeline subjects (project|advisory|component) of one proposal branch."""
        rows = self._conn.execute(
            "SELECT advisory, component FROM proposals WHERE project=? AND branch=?", (project, branch)
        )
        return [f"{project}|{a}|{c}" for a, c in rows]

    def proposals(self) -> list[dict[str, Any]]:
        """Every proposal, newest first."""
        rows = self._conn.execute(
            "SELECT project, advisory, component, target, branch, state, url, number, created "
            "FROM proposals ORDER BY created DESC"
        )
        keys = ("project", "advisory", "component", "target", "branch", "state", "url", "number", "created")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ------------------------------------------------------------------ timeline and log

    def mark(self, subject: str, step: str, at: float | None = None) -> None:
        """Record when ``step`` first happened for ``subject`` (a later mark does not move it)."""
        self._conn.execute(
            "INSERT OR IGNORE INTO timeline (subject, step, at) VALUES (?, ?, ?)",
            (subject, step, time.time() if at is None else at),
        )

    def timeline(self, subject: str) -> dict[str, float]:
        """Steps of one subject and when they happened."""
        return {
            s: a for s, a in self._conn.execute("SELECT step, at FROM timeline WHERE subject=?", (subject,))
        }

    def subjects(self, prefix: str) -> list[str]:
        """Subjects of the timeline starting with ``prefix``."""
        rows = self._conn.execute(
            "SELECT DISTINCT subject FROM timeline WHERE subject LIKE ? ESCAPE '\\' ORDER BY subject",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        )
        return [r[0] for r in rows]

    def log(self, message: str) -> None:
        """Keep a line of the service's log (the last ones are shown by ``watch status``)."""
        self._conn.execute("INSERT INTO log (at, message) VALUES (?, ?)", (time.time(), message))
        self._conn.execute("DELETE FROM log WHERE id <= (SELECT MAX(id) FROM log) - 500")

    def recent_log(self, n: int = 20) -> list[tuple[float, str]]:
        """The last ``n`` log lines, oldest first."""
        rows = self._conn.execute("SELECT at, message FROM log ORDER BY id DESC LIMIT ?", (n,)).fetchall()
        return [(float(a), str(m)) for a, m in reversed(rows)]
