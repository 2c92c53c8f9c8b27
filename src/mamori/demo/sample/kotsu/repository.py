"""Ticket and user storage on SQLite.

All queries here bind their values as parameters; the search endpoint in ``kotsu.app`` is the
one place that still builds SQL by hand (see the README: that is a deliberate hole).
"""

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    line     TEXT NOT NULL,
    asset    TEXT NOT NULL,
    title    TEXT NOT NULL,
    status   TEXT NOT NULL DEFAULT 'open',
    opened   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'depot'
);
"""

SEED_TICKETS = [
    ("Chuo", "E233-T12 car 4", "Brake pad wear above limit", "open", "2024-05-02"),
    ("Chuo", "Signal CH-118", "Intermittent aspect failure", "open", "2024-05-03"),
    ("Yamanote", "E235-U05 car 7", "Door sensor misreads in rain", "in_progress", "2024-05-03"),
    ("Yamanote", "Point YM-22", "Heater does not start below 2°C", "closed", "2024-04-28"),
    ("Keihin-Tohoku", "E233-S41 car 1", "Brake cylinder leak", "open", "2024-05-04"),
]

COLUMNS = ("id", "line", "asset", "title", "status", "opened")


def connect(path: str) -> sqlite3.Connection:
    """Open the database and create the tables if they do not exist yet."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.executescript(SCHEMA)
    return conn


def seed(conn: sqlite3.Connection) -> None:
    """Load the demonstration tickets once."""
    (count,) = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()
    if count == 0:
        conn.executemany(
            "INSERT INTO tickets (line, asset, title, status, opened) VALUES (?, ?, ?, ?, ?)",
            SEED_TICKETS,
        )
        conn.commit()


def as_dict(row):
    """A ticket row as a JSON-ready dict."""
    return dict(zip(COLUMNS, row))


def tickets_for_line(conn, line):
    """Every ticket of one railway line, newest first."""
    cur = conn.cursor()
    cur.execute(
        "SELECT id, line, asset, title, status, opened FROM tickets WHERE line = ? ORDER BY opened DESC, id",
        (line,),
    )
    return [as_dict(r) for r in cur.fetchall()]


def ticket_by_id(conn, ticket_id):
    """One ticket, or None."""
    row = conn.execute(
        "SELECT id, line, asset, title, status, opened FROM tickets WHERE id = ?", (ticket_id,)
    ).fetchone()
    return as_dict(row) if row else None


def open_ticket(conn, line, asset, title, opened):
    """Insert a ticket and return its id."""
    cur = conn.execute(
        "INSERT INTO tickets (line, asset, title, opened) VALUES (?, ?, ?, ?)",
        (line, asset, title, opened),
    )
    conn.commit()
    return cur.lastrowid


def add_user(conn, name, password_hash, role="depot"):
    """Store a user with an already hashed password."""
    conn.execute(
        "INSERT INTO users (name, password_hash, role) VALUES (?, ?, ?)", (name, password_hash, role)
    )
    conn.commit()


def password_hash_of(conn, name):
    """The stored password hash of a user, or None."""
    row = conn.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None
