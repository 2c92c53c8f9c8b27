"""SQLite helpers shared by mamori's own databases (results, the watch state)."""

from __future__ import annotations

import sqlite3
import time


def use_wal(con: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Put the database in WAL mode (kept in the file: once is enough).

    Switching needs the file to itself and SQLite does not wait for it with the connection's
    busy timeout: processes opening a new database at once got "database is locked" (seen in
    CI: a ``detect --follow`` batch of alerts lost while another process read the results
    database). This waits, up to ``seconds``, instead.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            if str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
