"""The hub's tables (SQLAlchemy 2 Core) and how to open a database by URL.

SQLite is the default (``MAMORI_HOME/hub.sqlite``) and PostgreSQL is for hubs with many
writers; both run the same statements. Times are integers (microseconds since the epoch) so that
ordering and ``added_after`` comparisons are exact on both. The audit log is append-only: the
database itself refuses UPDATE on it and DELETE of any record younger than the retention period
in ``audit_policy`` (a trigger on SQLite and on PostgreSQL), so pruning old records
(:mod:`mamori.share._audit`) is the only deletion it allows.

Tables added after the first release (owners, sessions, deliveries, …) are created on open in
existing databases too, with their indexes; no existing table changes shape.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from mamori._sqlite import use_wal
from mamori.errors import InputError, ResourceUnavailable

metadata = MetaData()

orgs = Table(
    "orgs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("sector", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
)

collections = Table(
    "collections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("alias", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("last_added", BigInteger, nullable=False, default=0),
    Column("writes", BigInteger, nullable=False, default=0),
)

grants = Table(
    "grants",
    metadata,
    Column("org_id", Integer, ForeignKey("orgs.id"), primary_key=True),
    Column("collection_id", String(64), ForeignKey("collections.id"), primary_key=True),
    Column("role", String(16), nullable=False),
)

objects = Table(
    "objects",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("collection_id", String(64), ForeignKey("collections.id"), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("stix_type", String(250), nullable=False),
    Column("spec_version", String(16), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("version_text", String(40), nullable=False),
    Column("date_added", BigInteger, nullable=False),
    Column("producer", String(200), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("collection_id", "stix_id", "version", name="uq_object_version"),
    Index("ix_objects_added", "collection_id", "date_added"),
    Index("ix_objects_id", "collection_id", "stix_id", "version"),
)

recipients = Table(
    "recipients",
    metadata,
    Column("object_pk", Integer, ForeignKey("objects.pk", ondelete="CASCADE"), primary_key=True),
    Column("org_name", String(200), primary_key=True),
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", Integer, ForeignKey("orgs.id"), nullable=False),
    Column("body", Text, nullable=False),
)

page_tokens = Table(
    "page_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("org_id", Integer, nullable=False),
    Column("scope", Text, nullable=False),
    Column("cursor_added", BigInteger, nullable=False),
    Column("cursor_pk", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

owners = Table(
    "owners",
    metadata,
    Column("stix_id", String(300), primary_key=True),
    Column("org_id", Integer, nullable=False),
)
"""Who first published each object id: the only organisation that may add versions of it."""

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("org_id", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Index("ix_sessions_org", "org_id"),
)
"""Dashboard sessions: the cookie holds a random session id (its SHA-256 is kept), never a token."""

anonymous_orgs = Table(
    "anonymous_orgs",
    metadata,
    Column("org_id", Integer, primary_key=True),
)
"""Organisations that pushed with ``--anonymise``: the hub never names them to another one."""

revoked_orgs = Table(
    "revoked_orgs",
    metadata,
    Column("org_id", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
)
"""Organisations whose tokens and sessions were revoked by the operator (``mamori hub revoke``)."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("collection_id", String(64), primary_key=True),
    Column("stix_id", String(300), primary_key=True),
    Column("count", BigInteger, nullable=False, default=0),
)
"""How often the hub handed out each object's content: the dashboard's "sent", kept as counts
when reads are audited so that it never scans the audit log."""

audit_policy = Table(
    "audit_policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("days", Integer, nullable=False),
)
"""The audit log's retention in days (one row); the database refuses to delete younger records."""

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("org", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("collection_id", String(64), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
)

EXTRA_INDEXES = (
    Index("ix_objects_stix_id", objects.c.stix_id),
    Index("ix_recipients_name", recipients.c.org_name),
    Index("ix_audit_at", audit.c.at),
    Index("ix_audit_org", audit.c.org, audit.c.at),
)
"""Indexes of tables that existed before them (created on open when missing)."""

_CUTOFF_SQLITE = (
    "(CAST(strftime('%s','now') AS INTEGER) - "
    "COALESCE((SELECT days FROM audit_policy WHERE id = 1), 36500) * 86400) * 1000000"
)
_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "DROP TRIGGER IF EXISTS audit_no_delete",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    f"WHEN OLD.at >= {_CUTOFF_SQLITE} "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only (records within the retention period)'); END",
)
_PG_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION mamori_audit_append_only() RETURNS trigger AS $$ "
    "BEGIN "
    "IF TG_OP = 'DELETE' AND OLD.at < (EXTRACT(EPOCH FROM now())::bigint - "
    "COALESCE((SELECT days FROM audit_policy WHERE id = 1), 36500) * 86400) * 1000000 "
    "THEN RETURN OLD; END IF; "
    "RAISE EXCEPTION 'the audit log is append-only (records within the retention period)'; END; "
    "$$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION mamori_audit_append_only()",
)


def default_url() -> str:
    """The default database: ``hub.sqlite`` under ``MAMORI_HOME``."""
    from mamori.config import mamori_home

    return f"sqlite:///{Path(mamori_home()) / 'hub.sqlite'}"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean the psycopg 3 driver, which mamori ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


POOL_SIZE = 20
"""Connections kept open per process (the server's thread pool has 40 threads)."""
POOL_OVERFLOW = 20
"""Extra connections a process may open under a burst; two PostgreSQL workers thus stay
within PostgreSQL's default ``max_connections`` of 100."""


def open_engine(url: str | None, *, create: bool = True) -> Engine:
    """An engine on ``url`` (default: :func:`default_url`) with the schema created
    (``create=False``: only check the database answers; another process created it).

    SQLite runs in WAL mode (readers never wait for the writer) with a 60 s busy timeout.
    PostgreSQL connections are not pinged on every checkout (a round trip per request); a
    dropped connection invalidates the pool and the next request reconnects.
    """
    target = normalise_url(url or default_url())
    try:
        parsed = make_url(target)
    except ArgumentError as exc:
        raise InputError(f"--database {target!r} is not a database URL: {exc}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            f"--database: unsupported database {parsed.get_backend_name()!r} (sqlite or postgresql)"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(
                target,
                connect_args={"timeout": 60, "check_same_thread": False},
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
            )

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: object, _record: object) -> None:
                use_wal(dbapi_conn)  # type: ignore[arg-type]
                cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

        else:
            engine = create_engine(target, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_recycle=1800)
    except NoSuchModuleError as exc:
        raise InputError(f"--database: no driver for {target!r}: {exc}") from exc
    try:
        if create:
            metadata.create_all(engine)
            for index in EXTRA_INDEXES:
                index.create(engine, checkfirst=True)
            with engine.begin() as conn:
                for stmt in _SQLITE_APPEND_ONLY if engine.dialect.name == "sqlite" else _PG_APPEND_ONLY:
                    conn.execute(text(stmt))
        else:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise ResourceUnavailable(f"cannot open the hub database {parsed!r}: {exc.orig}") from exc
    return engine
