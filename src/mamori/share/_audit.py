"""The hub's audit log: batched appends, delivery counts, and the retention policy.

Reads are audited in batches by :class:`AuditWriter` (one transaction per batch, not per
request). The same batch adds to ``deliveries`` how often each object's content was handed out,
so the dashboard's "sent" figures are indexed reads of a small table and never a scan of the
audit log. The log is append-only within its retention period (:data:`DEFAULT_RETENTION_DAYS`,
``MAMORI_HUB_AUDIT_DAYS``): the database refuses to delete younger records (see
:mod:`mamori.share._db`), and :func:`prune` removes older ones, in batches, when the hub opens
and then at most once an hour.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from mamori.errors import InputError
from mamori.share import _db

AUDIT_FLUSH_SECONDS = 0.2
"""How often the read audit records of many requests are appended in one transaction."""
AUDIT_BATCH = 500
"""A buffer of this many read audit records is appended at once, without waiting."""
DEFAULT_RETENTION_DAYS = 400
"""How long audit records are kept by default (a year and a month: yearly reviews find them)."""
MIN_RETENTION_DAYS = 1
"""The shortest retention ``MAMORI_HUB_AUDIT_DAYS`` may set."""
PRUNE_EVERY_SECONDS = 3600.0
"""How often the audit writer removes records older than the retention period."""
PRUNE_BATCH = 5000
"""Records removed per statement when pruning (short transactions: writers are not starved)."""
CONTENT_ENDPOINTS = ("objects", "object")
"""Reads that hand out objects' content (a manifest or a version list names them only)."""

_log = logging.getLogger(__name__)


def _now_us() -> int:
    return time.time_ns() // 1000


def retention_days() -> int:
    """The configured retention (``MAMORI_HUB_AUDIT_DAYS``, default :data:`DEFAULT_RETENTION_DAYS`)."""
    raw = os.environ.get("MAMORI_HUB_AUDIT_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    if not raw.isdigit() or int(raw) < MIN_RETENTION_DAYS:
        raise InputError(f"MAMORI_HUB_AUDIT_DAYS={raw!r}: give a whole number of days, at least 1")
    return int(raw)


def set_retention(conn: Connection, days: int) -> None:
    """Record the retention period (the database's delete trigger reads it)."""
    p = _db.audit_policy.c
    if conn.execute(select(p.days).where(p.id == 1)).scalar() is None:
        conn.execute(_db.audit_policy.insert().values(id=1, days=days))
    else:
        conn.execute(update(_db.audit_policy).where(p.id == 1).values(days=days))


def prune(engine: Engine, writing: AbstractContextManager[Any] | None = None) -> int:
    """Delete the audit records older than the retention period; returns how many."""
    a, p = _db.audit.c, _db.audit_policy.c
    total = 0
    lock = writing if writing is not None else contextlib.nullcontext()
    while True:
        with lock, engine.begin() as conn:
            days = conn.execute(select(p.days).where(p.id == 1)).scalar()
            if days is None:
                return total
            # a little inside the database's own cut-off, whose clock has second resolution
            cutoff = _now_us() - int(days) * 86_400_000_000 - 2_000_000
            ids = (
                conn.execute(select(a.id).where(a.at < cutoff).order_by(a.at).limit(PRUNE_BATCH))
                .scalars()
                .all()
            )
            if not ids:
                return total
            conn.execute(delete(_db.audit).where(a.id.in_(ids)))
            total += len(ids)


def _delivered(rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["action"] != "read":
            continue
        try:
            read = json.loads(row["detail"])
        except ValueError:
            continue
        if not isinstance(read, dict) or read.get("endpoint") not in CONTENT_ENDPOINTS:
            continue
        ids = read.get("ids")
        for ident in ids if isinstance(ids, list) else []:
            if isinstance(ident, str):
                key = (str(row["collection_id"]), ident)
                counts[key] = counts.get(key, 0) + 1
    return counts


def count_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add the objects handed out by the read records ``rows`` to ``deliveries`` (upserts)."""
    counts = _delivered(rows)
    if not counts:
        return
    d = _db.deliveries
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = [{"collection_id": c, "stix_id": s, "count": n} for (c, s), n in sorted(counts.items())]
    stmt = maker(d).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[d.c.collection_id, d.c.stix_id], set_={"count": d.c.count + stmt.excluded.count}
        )
    )


def backfill_deliveries(conn: Connection) -> None:
    """Count the deliveries an older hub recorded only in its audit log (once, on upgrade)."""
    if conn.execute(select(func.count()).select_from(_db.deliveries)).scalar():
        return
    a = _db.audit.c
    last = 0
    while True:
        batch = [
            dict(r._mapping)
            for r in conn.execute(
                select(a.id, a.action, a.collection_id, a.detail)
                .where(a.action == "read", a.id > last)
                .order_by(a.id)
                .limit(PRUNE_BATCH)
            )
        ]
        if not batch:
            return
        count_deliveries(conn, batch)
        last = int(batch[-1]["id"])


class AuditWriter:
    """Appends audit records in batches from a background thread.

    One transaction per batch instead of one per request: on SQLite every transaction that
    writes takes the database's one write lock, so an audit write per GET serialised all
    pollers behind the writers. A batch that fails (database busy) is kept and tried again;
    :meth:`flush` writes what is buffered now, :meth:`close` stops the thread after a last flush.
    """

    def __init__(
        self,
        engine: Engine,
        interval: float = AUDIT_FLUSH_SECONDS,
        writing: AbstractContextManager[Any] | None = None,
    ) -> None:
        """Buffer for ``engine``; the thread starts with the first record. ``writing``: held
        around each batch (the hub's write lock on SQLite)."""
        self._engine = engine
        self._writing = writing if writing is not None else contextlib.nullcontext()
        self._interval = interval
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pruned = time.monotonic()

    def add(self, org: str, action: str, collection_id: str, detail: str) -> None:
        """Buffer one record (its time is now, not when it is written)."""
        row = {
            "at": _now_us(),
            "org": org,
            "action": action,
            "collection_id": collection_id,
            "detail": detail,
        }
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= AUDIT_BATCH
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="mamori-audit", daemon=True)
                self._thread.start()
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Append every buffered record now (in one transaction, with their delivery counts)."""
        with self._flushing:  # one batch at a time keeps the records in order
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            try:
                with self._writing, self._engine.begin() as conn:
                    conn.execute(_db.audit.insert(), rows)
                    count_deliveries(conn, rows)
            except SQLAlchemyError:
                with self._lock:
                    self._rows[:0] = rows
                raise

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - self._pruned > PRUNE_EVERY_SECONDS:
                    self._pruned = time.monotonic()
                    prune(self._engine, self._writing)
            except SQLAlchemyError as exc:  # kept; the next round tries again
                _log.warning("audit records not written yet: %s", exc)

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()
