"""The hub's logic without HTTP: organisations, tokens, roles, objects, TLP-filtered queries.

Every read goes through :meth:`Hub.query`, which puts the TLP rule of :mod:`mamori.share.tlp`
into the SQL ``WHERE`` clause. Filtering in the database (not after it) is what keeps
pagination honest: ``more``, ``next`` and the page sizes never count an object the reader may
not see, and an object the reader may not see is simply not there (404 by id).

Writes to a collection are serialised by a row lock on the collection (an UPDATE first, which
SQLite and PostgreSQL both turn into a lock), and ``date_added`` is taken inside that lock and
kept strictly increasing per collection. So a client polling with ``added_after`` never misses
an object committed late with an earlier time.

Pagination tokens (``next``) are random, stored hashed, bound to the organisation, endpoint and
filters that produced them, expire after an hour and work once: a forged, foreign, stale or
replayed token is a TAXII 400 error.

Under load (100 pollers, 10 writers) what dominates is the database's one writer, so reads never
write synchronously: a read's audit record goes to :class:`~mamori.share._audit.AuditWriter`,
which appends the records of many requests in one transaction; a write's audit record stays in
the write's own transaction.

Under abuse (issue 11): an object id belongs to the organisation that first published it (the
``owners`` table): nobody else may add a version of it, revoke it or shadow it; envelopes,
status resources and pages are bounded (:mod:`mamori.share._limits`); objects deeper than
:data:`~mamori.share._limits.MAX_JSON_DEPTH` or indicators with a pattern over
:data:`~mamori.share._limits.MAX_PATTERN_CHARS` are refused; recipients must be organisations of
the hub. Organisations management for the operator (list, rotate, revoke) and dashboard
sessions live in :mod:`mamori.share._orgs`; the values, object checks and the SQL TLP rule in
:mod:`mamori.share._records`. Tokens' organisations and organisations' roles are
remembered for :data:`AUTH_CACHE_SECONDS` (a grant made through this hub forgets them at once).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mamori.errors import InputError
from mamori.share import _audit, _db
from mamori.share._audit import AuditWriter
from mamori.share._limits import MAX_FAILURES_LISTED, MAX_PAGE_BYTES
from mamori.share._records import (
    SECTOR_RECIPIENT,
    AddResult,
    Filters,
    Org,
    Page,
    Row,
    TaxiiError,
    Who,
    bodies_of,
    check_object,
    claim_ids,
    format_timestamp,
    hash_token,
    now_us,
    owners_of,
    parse_timestamp,
    readable_sql,
    redeem_token,
    served_body,
    unknown_recipients,
    version_of,
)
from mamori.share.sectors import CollectionSpec, collections_for
from mamori.share.tlp import (
    recipient_sectors_of,
    recipients_of,
    tlp_of,
)

__all__ = [
    "AddResult",
    "Filters",
    "Hub",
    "Org",
    "Page",
    "Row",
    "TaxiiError",
    "check_object",
    "format_timestamp",
    "hash_token",
    "now_us",
    "parse_timestamp",
]

ROLES: tuple[str, ...] = ("reader", "writer", "admin")
"""Roles on a collection, least powerful first."""

MAX_PAGE = 1000
"""The most objects one response holds, whatever ``limit`` asks."""
INSERT_BATCH = 500
"""Object versions stored per INSERT (one statement for a whole envelope cost ~40 MB more)."""
AUTH_CACHE_SECONDS = 5.0
"""How long a token's organisation, and an organisation's role on a collection, are remembered."""

_log = logging.getLogger(__name__)

_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@&()'-]{0,199}$")


class Hub:
    """The sharing hub over one database (SQLite file or PostgreSQL server)."""

    def __init__(self, engine: Engine, *, sectors: Sequence[str] | None = None) -> None:
        """Open the hub on ``engine``; the first open creates a collection per sector."""
        from mamori.share.sectors import configured_sectors

        self.engine = engine
        # SQLite has one writer: writers of this process queue on a lock instead of polling
        # the database's busy handler, whose sleeps grow to 100 ms (the POST p99 under load)
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self._auth_cache: dict[tuple[str, str | None], tuple[float, Org | None]] = {}
        self._role_cache: dict[tuple[int, str], tuple[float, str | None]] = {}
        self._selects: dict[tuple[Any, ...], Select[Any]] = {}
        self._collection_ids: dict[str, str] = {}
        self._init_collections(collections_for(tuple(sectors or configured_sectors())))
        with engine.connect() as conn:  # collections are never dropped
            self._known = frozenset(str(c) for c in conn.execute(select(_db.collections.c.id)).scalars())
        self._aliases: dict[str, str] = {}
        self.audit_writer = AuditWriter(engine, writing=self._write_lock)
        days = _audit.retention_days()
        try:
            with self._write() as conn:
                _audit.set_retention(conn, days)
                _audit.backfill_deliveries(conn)
            _audit.prune(engine, self._write_lock)
        except SQLAlchemyError as exc:  # a read-only replica, a busy database: serve anyway
            _log.warning("audit retention not applied now: %s", exc)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (under the write lock on SQLite)."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    def write(self) -> contextlib.AbstractContextManager[Connection]:
        """A write transaction (for :mod:`mamori.share._orgs`)."""
        return self._write()

    def audit_in(self, conn: Connection, org: str, action: str, collection_id: str, detail: str) -> None:
        """Append an audit record inside the write transaction ``conn``."""
        self._audit(conn, org, action, collection_id, detail)

    def forget_credentials(self) -> None:
        """Drop the cached tokens and roles (after a rotation or revocation)."""
        self._auth_cache.clear()
        self._role_cache.clear()

    @classmethod
    def open(
        cls, url: str | None = None, *, sectors: Sequence[str] | None = None, create: bool = True
    ) -> Hub:
        """The hub of database ``url`` (default: ``hub.sqlite`` under ``MAMORI_HOME``);
        ``create=False`` when another process already created the schema (server workers)."""
        return cls(_db.open_engine(url, create=create), sectors=sectors)

    def close(self) -> None:
        """Write the buffered audit records and release the database connections."""
        try:
            self.audit_writer.close()
        finally:
            self.engine.dispose()

    # -- set-up -----------------------------------------------------------------------------

    def _init_collections(self, specs: Iterable[CollectionSpec]) -> None:
        with self._write() as conn:
            have = set(conn.execute(select(_db.collections.c.id)).scalars())
            if have:
                return
            for spec in specs:
                conn.execute(
                    insert(_db.collections).values(
                        id=spec.id,
                        alias=spec.alias,
                        title=spec.title,
                        description=spec.description,
                        last_added=0,
                        writes=0,
                    )
                )

    def sectors(self) -> list[str]:
        """The sectors of this hub (collection aliases except ``cross-sector``)."""
        from mamori.share.sectors import CROSS_SECTOR

        with self.engine.connect() as conn:
            aliases = conn.execute(select(_db.collections.c.alias)).scalars().all()
        return sorted(a for a in aliases if a != CROSS_SECTOR)

    def add_org(self, name: str, sector: str, role: str = "writer") -> str:
        """Register ``name`` in ``sector`` with ``role`` on its sector's and the cross-sector
        collection; returns its API token (only its hash is kept)."""
        from mamori.share.sectors import CROSS_SECTOR, collection_id

        if not _ORG_NAME.match(name) or ":" in name:
            raise InputError(f"organisation name {name!r}: use letters, digits, spaces and . _ @ & ( ) ' -")
        if role not in ROLES:
            raise InputError(f"--role {role!r}: choose one of {', '.join(ROLES)}")
        if sector not in self.sectors():
            raise InputError(f"--sector {sector!r} is not a sector of this hub: {', '.join(self.sectors())}")
        token = secrets.token_urlsafe(32)
        try:
            with self._write() as conn:
                org_id = conn.execute(
                    insert(_db.orgs).values(name=name, sector=sector, created=now_us())
                ).inserted_primary_key[0]  # type: ignore[index]
                conn.execute(
                    insert(_db.tokens).values(org_id=org_id, token_hash=hash_token(token), created=now_us())
                )
                for cid in (collection_id(sector), collection_id(CROSS_SECTOR)):
                    conn.execute(insert(_db.grants).values(org_id=org_id, collection_id=cid, role=role))
                self._audit(conn, name, "add-org", "", json.dumps({"sector": sector, "role": role}))
        except IntegrityError as exc:
            raise InputError(f"organisation {name!r} already exists") from exc
        return token

    def new_token(self, org_name: str) -> str:
        """Another API token for an existing organisation."""
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            org_id = conn.execute(select(_db.orgs.c.id).where(_db.orgs.c.name == org_name)).scalar()
            if org_id is None:
                raise InputError(f"no organisation {org_name!r}")
            conn.execute(
                insert(_db.tokens).values(org_id=org_id, token_hash=hash_token(token), created=now_us())
            )
            self._audit(conn, org_name, "new-token", "", "")
        return token

    def grant(self, by: Org | None, org_name: str, collection: str, role: str) -> None:
        """Give ``org_name`` ``role`` on ``collection``; ``by`` must be admin of it (None: the operator)."""
        if role not in ROLES:
            raise TaxiiError(400, "Bad role", f"role must be one of {', '.join(ROLES)}")
        cid = self.resolve_collection(collection)
        with self._write() as conn:
            if by is not None and self._role(conn, by.id, cid) != "admin":
                raise TaxiiError(403, "Forbidden", "only an admin of the collection can grant roles on it")
            target = conn.execute(select(_db.orgs.c.id).where(_db.orgs.c.name == org_name)).scalar()
            if target is None:
                raise TaxiiError(404, "Not found", f"no organisation {org_name!r}")
            conn.execute(
                delete(_db.grants).where(_db.grants.c.org_id == target, _db.grants.c.collection_id == cid)
            )
            conn.execute(insert(_db.grants).values(org_id=target, collection_id=cid, role=role))
            self._role_cache.clear()
            self._audit(
                conn,
                by.name if by else "(operator)",
                "grant",
                cid,
                json.dumps({"org": org_name, "role": role}),
            )

    # -- identity ---------------------------------------------------------------------------

    def authenticate(self, token: str, org_name: str | None = None) -> Org | None:
        """The organisation a token belongs to (and whose name is ``org_name``, for HTTP Basic)."""
        if not token:
            return None
        key = (hash_token(token), org_name)
        cached = self._auth_cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        org = self._authenticate(token, org_name)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[key] = (time.monotonic() + AUTH_CACHE_SECONDS, org)
        return org

    def _authenticate(self, token: str, org_name: str | None) -> Org | None:
        query = (
            select(_db.orgs.c.id, _db.orgs.c.name, _db.orgs.c.sector)
            .join(_db.tokens, _db.tokens.c.org_id == _db.orgs.c.id)
            .where(_db.tokens.c.token_hash == hash_token(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or (
            org_name is not None
            and not secrets.compare_digest(row.name.encode("utf-8"), org_name.encode("utf-8", "replace"))
        ):
            return None
        return Org(row.id, row.name, row.sector)

    def _role(self, conn: Any, org_id: int, collection_id: str) -> str | None:
        return conn.execute(
            select(_db.grants.c.role).where(
                _db.grants.c.org_id == org_id, _db.grants.c.collection_id == collection_id
            )
        ).scalar()

    def role(self, org: Org, collection_id: str) -> str | None:
        """``org``'s role on a collection, or None."""
        with self.engine.connect() as conn:
            return self._role(conn, org.id, collection_id)

    def resolve_collection(self, ident: str) -> str:
        """A collection id from its id or alias (sector name, ``cross-sector``)."""
        if ident in self._collection_ids:
            return self._collection_ids[ident]
        c = _db.collections.c
        with self.engine.connect() as conn:
            cid = conn.execute(select(c.id).where(or_(c.id == ident, c.alias == ident))).scalar()
        if cid is None:
            raise TaxiiError(404, "Collection not found", f"no collection {ident!r}")
        self._collection_ids[ident] = str(cid)  # collections are never renamed or dropped
        return str(cid)

    def collections(self, org: Org) -> list[tuple[CollectionSpec, str]]:
        """The collections ``org`` holds a role on, with that role."""
        c, g = _db.collections.c, _db.grants.c
        query = (
            select(c.id, c.alias, c.title, c.description, g.role)
            .join(_db.grants, g.collection_id == c.id)
            .where(g.org_id == org.id)
            .order_by(c.alias)
        )
        with self.engine.connect() as conn:
            return [
                (CollectionSpec(r.id, r.alias, r.title, r.description), r.role) for r in conn.execute(query)
            ]

    def _cached_role(self, org: Org, collection_id: str) -> str | None:
        key = (org.id, collection_id)
        cached = self._role_cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        role = self.role(org, collection_id)
        if len(self._role_cache) > 10_000:
            self._role_cache.clear()
        self._role_cache[key] = (time.monotonic() + AUTH_CACHE_SECONDS, role)
        return role

    def access(self, org: Org, collection_id: str, *, write: bool = False) -> str:
        """``org``'s role on an existing collection, checked for reading (or writing)."""
        if collection_id not in self._known:
            raise TaxiiError(404, "Collection not found", f"no collection {collection_id!r}")
        role = self._cached_role(org, collection_id)
        if role is None or (write and role == "reader"):
            why = "has no role on" if role is None else "may only read"
            self.audit_denied(org.name, "denied", collection_id, "write" if write else "read")
            raise TaxiiError(403, "Forbidden", f"your organisation {why} this collection")
        return str(role)

    # -- writing ----------------------------------------------------------------------------

    def add_objects(
        self, org: Org, collection_id: str, objects: Sequence[object], *, anonymous: bool = False
    ) -> dict[str, Any]:
        """Store a POSTed envelope's objects (each whole or not at all); returns the status resource.

        Everything that does not need the collection's lock (checks, serialising the bodies once,
        TLP and recipients) happens before taking it; inside it, one query finds the versions
        already stored and one multi-row INSERT stores the rest. An id another organisation
        published first is refused (a version of it already stored by the same organisation is
        a success that stores nothing). ``anonymous``: the organisation shares anonymously from
        now on (it is named to no other organisation anywhere).
        """
        self.access(org, collection_id, write=True)
        result = AddResult()
        prepared: list[dict[str, Any]] = []
        names: list[Sequence[str]] = []
        batch: set[tuple[str, int]] = set()
        known_orgs = self._org_names()
        known_sectors = set(self.sectors())
        for obj in objects:
            problem = check_object(obj)
            ident = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""
            if not problem and isinstance(obj, dict):
                problem = unknown_recipients(obj, known_orgs, known_sectors)
            if problem:
                result.failures.append({"id": str(ident)[:300], "message": problem})
                continue
            assert isinstance(obj, dict)
            version, version_text = version_of(obj)
            dup = (str(ident), version) in batch
            batch.add((str(ident), version))
            prepared.append(
                {
                    "collection_id": collection_id,
                    "stix_id": str(ident),
                    "stix_type": obj["type"],
                    "spec_version": str(obj.get("spec_version", "2.1")),
                    "version": version,
                    "version_text": version_text,
                    "date_added": 0,
                    "producer": org.name,
                    "tlp": tlp_of(obj).value,
                    # ASCII-only: a body's length is its size in bytes (pages are capped in bytes)
                    "body": "" if dup else json.dumps(obj, separators=(",", ":")),
                }
            )
            names.append(
                []
                if dup
                else [*recipients_of(obj), *(SECTOR_RECIPIENT + x for x in recipient_sectors_of(obj))]
            )
        requested = now_us()
        status_id = str(uuid.uuid4())
        with self._write() as conn:
            c, o = _db.collections.c, _db.objects.c
            # the lock: the first statement of the transaction writes the collection's row
            last = conn.execute(
                update(_db.collections)
                .where(c.id == collection_id)
                .values(writes=c.writes + 1)
                .returning(c.last_added)
            ).scalar_one()
            added = max(now_us(), int(last) + 1)
            stored: set[tuple[str, int]] = set()
            ids = sorted({p["stix_id"] for p in prepared})
            owners = owners_of(conn, ids)
            for i in range(0, len(ids), 500):
                stored.update(
                    (str(r.stix_id), int(r.version))
                    for r in conn.execute(
                        select(o.stix_id, o.version).where(
                            o.collection_id == collection_id,
                            o.stix_id.in_(ids[i : i + 500]),
                            o.producer == org.name,
                        )
                    )
                )
            claims = sorted(i for i in ids if i not in owners)
            if claims:  # a concurrent writer (another collection) may claim one first: it wins
                owners.update(claim_ids(conn, claims, org.id))
            new: list[dict[str, Any]] = []
            new_names: list[Sequence[str]] = []
            for row, recips in zip(prepared, names, strict=True):
                key = (row["stix_id"], row["version"])
                if owners.get(row["stix_id"]) != org.id:
                    # never say whose it is: the owner may have shared anonymously
                    result.failures.append(
                        {"id": row["stix_id"], "message": "this id belongs to another organisation"}
                    )
                    continue
                stamp = ""
                if key not in stored:
                    stored.add(key)
                    row["date_added"] = added
                    stamp = format_timestamp(added)
                    added += 1
                    new.append(row)
                    new_names.append(recips)
                result.successes.append({"id": row["stix_id"], "version": row["version_text"] or stamp})
            if new:
                pks: list[int] = []
                for i in range(0, len(new), INSERT_BATCH):  # a bounded statement, not 10,000 rows
                    pks.extend(
                        conn.execute(
                            insert(_db.objects).returning(o.pk, sort_by_parameter_order=True),
                            new[i : i + INSERT_BATCH],
                        ).scalars()
                    )
                links = [
                    {"object_pk": pk, "org_name": n}
                    for pk, rs in zip(pks, new_names, strict=True)
                    for n in rs
                ]
                if links:
                    conn.execute(insert(_db.recipients), links)
                conn.execute(
                    update(_db.collections).where(c.id == collection_id).values(last_added=added - 1)
                )
            status = {
                "id": status_id,
                "status": "complete",
                "request_timestamp": format_timestamp(requested),
                "total_count": len(objects),
                "success_count": len(result.successes),
                "successes": result.successes,
                "failure_count": len(result.failures),
                "failures": result.failures[:MAX_FAILURES_LISTED],
                "pending_count": 0,
                "pendings": [],
            }
            if len(result.failures) > MAX_FAILURES_LISTED:
                status["x_mamori_failures_not_listed"] = len(result.failures) - MAX_FAILURES_LISTED
            if anonymous:
                self._mark_anonymous(conn, org)
            conn.execute(insert(_db.statuses).values(id=status_id, org_id=org.id, body=json.dumps(status)))
            self._audit(
                conn,
                org.name,
                "write",
                collection_id,
                json.dumps({"status": status_id, "ids": [s["id"] for s in result.successes]}),
            )
        return status

    def _org_names(self) -> frozenset[str]:
        with self.engine.connect() as conn:
            return frozenset(str(n) for n in conn.execute(select(_db.orgs.c.name)).scalars())

    def _mark_anonymous(self, conn: Any, org: Org) -> None:
        a = _db.anonymous_orgs.c
        if conn.execute(select(a.org_id).where(a.org_id == org.id)).scalar() is None:
            conn.execute(insert(_db.anonymous_orgs).values(org_id=org.id))
            self._audit(conn, org.name, "anonymous", "", "")

    def anonymous_names(self) -> frozenset[str]:
        """The organisations that shared anonymously (never named to another organisation)."""
        a, g = _db.anonymous_orgs.c, _db.orgs.c
        with self.engine.connect() as conn:
            return frozenset(
                str(n)
                for n in conn.execute(select(g.name).join(_db.anonymous_orgs, a.org_id == g.id)).scalars()
            )

    def delete_object(self, org: Org, collection_id: str, stix_id: str, filters: Filters) -> int:
        """Delete the versions of an object ``org`` produced (any version for a collection admin)."""
        role = self.access(org, collection_id, write=True)
        o = _db.objects.c
        with self._write() as conn:
            cond = [
                o.collection_id == collection_id,
                o.stix_id == stix_id,
                readable_sql((org.name, SECTOR_RECIPIENT + org.sector)),
            ]
            if role != "admin":
                cond.append(o.producer == org.name)
            if filters.versions != ("all",) or filters.spec_versions:
                words = {v for v in filters.versions if v in ("all", "last", "first")}
                stamps = self._stamps(filters)
                cond.append(
                    self._version_clause(
                        (org.name, SECTOR_RECIPIENT + org.sector),
                        words,
                        stamps or None,
                        list(filters.spec_versions) or None,
                    )
                )
            pks = conn.execute(select(o.pk).where(*cond)).scalars().all()
            if not pks:
                raise TaxiiError(404, "Object not found", f"no object {stix_id!r} that you may delete")
            conn.execute(delete(_db.recipients).where(_db.recipients.c.object_pk.in_(pks)))
            conn.execute(delete(_db.objects).where(o.pk.in_(pks)))
            self._audit(
                conn, org.name, "delete", collection_id, json.dumps({"id": stix_id, "versions": len(pks)})
            )
        return len(pks)

    def status(self, org: Org, status_id: str) -> dict[str, Any]:
        """A status resource of ``org`` (another organisation's is not found)."""
        s = _db.statuses.c
        with self.engine.connect() as conn:
            body = conn.execute(select(s.body).where(s.id == status_id, s.org_id == org.id)).scalar()
        if body is None:
            raise TaxiiError(404, "Status not found", f"no status {status_id!r}")
        result: dict[str, Any] = json.loads(body)  # a status the hub itself wrote: trusted
        return result

    # -- reading ----------------------------------------------------------------------------

    def readable_clause(self, org: Org) -> ColumnElement[bool]:
        """The TLP rule for ``org`` as a SQL condition on the ``objects`` table."""
        return readable_sql((org.name, SECTOR_RECIPIENT + org.sector))

    def _version_clause(
        self,
        who: Who,
        words: Iterable[str],
        stamps: Sequence[int] | BindParameter[Any] | None,
        spec_versions: Sequence[str] | BindParameter[Any] | None,
    ) -> ColumnElement[bool]:
        """``match[version]`` (``all``, ``last``, ``first``, timestamps) and ``match[spec_version]``;
        ``last`` and ``first`` among the versions ``who`` may read."""
        o = _db.objects.c
        clauses: list[ColumnElement[bool]] = []
        if "all" in words:
            clauses.append(o.pk.isnot(None))
        for word, agg in (("last", func.max), ("first", func.min)):
            if word in words:
                o2 = _db.objects.alias(f"o_{word}")
                sub = (
                    select(agg(o2.c.version))
                    .where(
                        o2.c.collection_id == o.collection_id,
                        o2.c.stix_id == o.stix_id,
                        readable_sql(who, o2),
                        *([o2.c.spec_version.in_(spec_versions)] if spec_versions is not None else []),
                    )
                    .scalar_subquery()
                )
                clauses.append(o.version == sub)
        if stamps is not None:
            clauses.append(o.version.in_(stamps))
        result = or_(*clauses)
        if spec_versions is not None:
            result = and_(result, o.spec_version.in_(spec_versions))
        return result

    @staticmethod
    def _stamps(filters: Filters) -> list[int]:
        found = (parse_timestamp(v) for v in filters.versions if v not in ("all", "last", "first"))
        return [s for s in found if s is not None]

    def _select(self, shape: tuple[Any, ...]) -> Select[Any]:
        """The query of one request shape, built once with bound parameters.

        Building the SQL expression (the TLP rule twice, the version subqueries) cost more CPU
        than running it; a hub sees few shapes (endpoint x which filters are present), so each
        is built once and only its parameters change."""
        cached = self._selects.get(shape)
        if cached is not None:
            return cached
        endpoint, by_id, ids, types, words, stamps, specs, after, cursor = shape
        o = _db.objects.c
        who = (bindparam("org_name", type_=String), bindparam("org_sector", type_=String))
        cond: list[ColumnElement[bool]] = [o.collection_id == bindparam("cid"), readable_sql(who)]
        if by_id:
            cond.append(o.stix_id == bindparam("object_id"))
        if ids:
            cond.append(o.stix_id.in_(bindparam("ids", expanding=True)))
        if types:
            cond.append(o.stix_type.in_(bindparam("types", expanding=True)))
        if after:
            cond.append(o.date_added > bindparam("after"))
        spec_param: BindParameter[Any] | None = bindparam("specs", expanding=True) if specs else None
        if endpoint != "versions":
            stamp_param: BindParameter[Any] | None = bindparam("stamps", expanding=True) if stamps else None
            cond.append(self._version_clause(who, words, stamp_param, spec_param))
        elif spec_param is not None:
            cond.append(o.spec_version.in_(spec_param))
        if cursor:
            cond.append(
                or_(
                    o.date_added > bindparam("cursor_added"),
                    and_(o.date_added == bindparam("cursor_added"), o.pk > bindparam("cursor_pk")),
                )
            )
        stmt = (
            select(
                o.pk,
                o.stix_id,
                o.version,
                o.version_text,
                o.date_added,
                o.spec_version,
                o.producer,
                func.length(o.body).label("size"),
            )
            .where(*cond)
            .order_by(o.date_added, o.pk)
            .limit(bindparam("size"))
        )
        if len(self._selects) < 4096:
            self._selects[shape] = stmt
        return stmt

    def query(
        self,
        org: Org,
        collection_id: str,
        filters: Filters,
        *,
        endpoint: str,
        object_id: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page:
        """One page of the objects of a collection that ``org`` may read, oldest added first."""
        self.access(org, collection_id)
        size = min(limit or MAX_PAGE, MAX_PAGE)
        scope = json.dumps([collection_id, object_id, filters.scope(endpoint)])
        stamps = self._stamps(filters)
        words = tuple(sorted({v for v in filters.versions if v in ("all", "last", "first")}))
        params: dict[str, Any] = {
            "org_name": org.name,
            "org_sector": SECTOR_RECIPIENT + org.sector,
            "cid": collection_id,
            "object_id": object_id,
            "ids": list(filters.ids),
            "types": list(filters.types),
            "after": filters.added_after,
            "stamps": stamps,
            "specs": list(filters.spec_versions),
            "size": size + 1,
        }
        if next_token is not None:
            with self._write() as conn:
                params["cursor_added"], params["cursor_pk"] = redeem_token(conn, org, scope, next_token)
        shape = (
            endpoint,
            object_id is not None,
            bool(filters.ids),
            bool(filters.types),
            words,
            bool(stamps) or not words,  # only unparseable stamps: match nothing, as before
            bool(filters.spec_versions),
            filters.added_after is not None,
            next_token is not None,
        )
        stmt = self._select(shape)
        with self.engine.connect() as conn:  # reading writes nothing (its audit record is batched)
            result = conn.execute(stmt, params).all()
            more = len(result) > size
            chosen = result[:size]
            if endpoint in _audit.CONTENT_ENDPOINTS:
                # a page stops before its bodies pass MAX_PAGE_BYTES (one object always fits)
                total = 0
                for n, r in enumerate(chosen):
                    total += int(r.size or 0)
                    if n and total > MAX_PAGE_BYTES:
                        chosen, more = chosen[:n], True
                        break
                bodies = bodies_of(conn, [r.pk for r in chosen])
            else:
                bodies = {}
        rows = tuple(
            Row(
                r.pk,
                r.stix_id,
                r.version_text or format_timestamp(r.date_added),
                r.date_added,
                r.spec_version,
                served_body(bodies.get(r.pk, ""), r.producer, org),
            )
            for r in chosen
        )
        token = None
        if more:
            token = secrets.token_urlsafe(24)
            with self._write() as conn:
                conn.execute(
                    insert(_db.page_tokens).values(
                        token_hash=hash_token(token),
                        org_id=org.id,
                        scope=scope,
                        cursor_added=rows[-1].date_added,
                        cursor_pk=rows[-1].pk,
                        created=now_us(),
                        used=False,
                    )
                )
        self.audit_writer.add(
            org.name,
            "read",
            collection_id,
            json.dumps({"endpoint": endpoint, "ids": sorted({r.stix_id for r in rows})}),
        )
        return Page(rows, more, token)

    # -- audit --------------------------------------------------------------------------------

    def _audit(self, conn: Any, org: str, action: str, collection_id: str, detail: str) -> None:
        conn.execute(
            insert(_db.audit).values(
                at=now_us(), org=org, action=action, collection_id=collection_id, detail=detail
            )
        )

    def audit_denied(self, who: str, action: str, collection_id: str, detail: str) -> None:
        """Record a refused request (bad credentials, no role) in the audit log (batched)."""
        self.audit_writer.add(who, action, collection_id, detail)

    def audit_log(self) -> list[dict[str, Any]]:
        """The whole audit log, oldest first (buffered records written first)."""
        self.audit_writer.flush()
        a = _db.audit.c
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(_db.audit).order_by(a.id))]
