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
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from mamori.errors import InputError
from mamori.share import _db
from mamori.share.sectors import CollectionSpec, collections_for
from mamori.share.tlp import Tlp, recipients_of, tlp_of

ROLES: tuple[str, ...] = ("reader", "writer", "admin")
"""Roles on a collection, least powerful first."""

MAX_PAGE = 1000
"""The most objects one response holds, whatever ``limit`` asks."""
TOKEN_LIFETIME_US = 3600 * 1_000_000
"""How long a ``next`` token stays valid."""
AUTH_CACHE_SECONDS = 5.0
"""How long a token's organisation is remembered (tokens are never changed, only added)."""

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_STIX_ID = re.compile(
    r"^([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@&()'-]{0,199}$")
_SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
        "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
        "software", "url", "user-account", "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip


class TaxiiError(Exception):
    """A request the TAXII standard answers with an error message resource."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(f"{status} {title}: {description}")
        self.status = status
        self.title = title
        self.description = description


@dataclass(frozen=True, slots=True)
class Org:
    """An organisation of the hub."""

    id: int
    name: str
    sector: str


@dataclass(frozen=True, slots=True)
class Filters:
    """The TAXII filters of one request (``limit`` and ``next`` apart)."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()

    def scope(self, endpoint: str) -> str:
        """What a ``next`` token is bound to: the endpoint and every filter."""
        return json.dumps(
            [endpoint, self.added_after, self.ids, self.types, self.versions, self.spec_versions]
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One stored object version as a query returns it."""

    pk: int
    stix_id: str
    version: str
    date_added: int
    spec_version: str
    body: str


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query: rows, whether more follow, and the token to get them."""

    rows: tuple[Row, ...]
    more: bool
    next: str | None = None

    @property
    def first_added(self) -> int | None:
        """The earliest ``date_added`` on the page."""
        return min((r.date_added for r in self.rows), default=None)

    @property
    def last_added(self) -> int | None:
        """The latest ``date_added`` on the page."""
        return max((r.date_added for r in self.rows), default=None)


@dataclass(slots=True)
class AddResult:
    """What became of the objects of one POST (the body of its status resource)."""

    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


def now_us() -> int:
    """Now, in microseconds since the epoch."""
    return time.time_ns() // 1000


def parse_timestamp(text: str) -> int | None:
    """A STIX/TAXII timestamp (``2024-01-02T03:04:05.123Z``) in microseconds, or None if malformed."""
    m = _TIMESTAMP.match(text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
        dt = datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    except ValueError:
        return None
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    return int(dt.timestamp()) * 1_000_000 + int(frac)


def format_timestamp(us: int) -> str:
    """Microseconds since the epoch as a TAXII timestamp with microsecond precision."""
    dt = datetime.fromtimestamp(us // 1_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


def hash_token(token: str) -> str:
    """Tokens are stored as their SHA-256 (they are 256-bit random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_object(obj: object) -> str:
    """Why a STIX object cannot be stored, or ``""`` when it can (structure only; no half-checks)."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    stix_id, stix_type = obj.get("id"), obj.get("type")
    if not isinstance(stix_type, str) or not isinstance(stix_id, str):
        return "'type' and 'id' are required strings"
    m = _STIX_ID.match(stix_id)
    if not m or m.group(1) != stix_type:
        return f"'id' {stix_id[:80]!r} is not '{stix_type}--<uuid>'"
    spec = obj.get("spec_version", "2.1" if stix_type in _SCO_TYPES else None)
    if spec != "2.1":
        return "'spec_version' must be '2.1'"
    for key in ("created", "modified"):
        if key in obj and (not isinstance(obj[key], str) or parse_timestamp(obj[key]) is None):
            return f"{key!r} is not a STIX timestamp"
    if stix_type not in _SCO_TYPES and "created" not in obj:
        return "'created' is required"
    refs = obj.get("object_marking_refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        return "'object_marking_refs' must be a list of identifiers"
    recips = obj.get("x_mamori_recipients", [])
    if not isinstance(recips, list) or not all(isinstance(r, str) for r in recips):
        return "'x_mamori_recipients' must be a list of organisation names"
    return ""


def _version_of(obj: dict[str, Any]) -> tuple[int, str]:
    for key in ("modified", "created"):
        value = obj.get(key)
        if isinstance(value, str):
            us = parse_timestamp(value)
            if us is not None:
                return us, value
    return 0, ""


class Hub:
    """The sharing hub over one database (SQLite file or PostgreSQL server)."""

    def __init__(self, engine: Engine, *, sectors: Sequence[str] | None = None) -> None:
        """Open the hub on ``engine``; the first open creates a collection per sector."""
        from mamori.share.sectors import configured_sectors

        self.engine = engine
        self._auth_cache: dict[tuple[str, str | None], tuple[float, Org | None]] = {}
        self._collection_ids: dict[str, str] = {}
        self._init_collections(collections_for(tuple(sectors or configured_sectors())))

    @classmethod
    def open(cls, url: str | None = None, *, sectors: Sequence[str] | None = None) -> Hub:
        """The hub of database ``url`` (default: ``hub.sqlite`` under ``MAMORI_HOME``)."""
        return cls(_db.open_engine(url), sectors=sectors)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- set-up -----------------------------------------------------------------------------

    def _init_collections(self, specs: Iterable[CollectionSpec]) -> None:
        with self.engine.begin() as conn:
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
            with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
            if by is not None and self._role(conn, by.id, cid) != "admin":
                raise TaxiiError(403, "Forbidden", "only an admin of the collection can grant roles on it")
            target = conn.execute(select(_db.orgs.c.id).where(_db.orgs.c.name == org_name)).scalar()
            if target is None:
                raise TaxiiError(404, "Not found", f"no organisation {org_name!r}")
            conn.execute(
                delete(_db.grants).where(_db.grants.c.org_id == target, _db.grants.c.collection_id == cid)
            )
            conn.execute(insert(_db.grants).values(org_id=target, collection_id=cid, role=role))
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
        if row is None or (org_name is not None and not secrets.compare_digest(row.name, org_name)):
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

    def access(self, org: Org, collection_id: str, *, write: bool = False) -> str:
        """``org``'s role on an existing collection, checked for reading (or writing)."""
        with self.engine.connect() as conn:
            known = conn.execute(
                select(_db.collections.c.id).where(_db.collections.c.id == collection_id)
            ).scalar()
            role = self._role(conn, org.id, collection_id) if known else None
        if known is None:
            raise TaxiiError(404, "Collection not found", f"no collection {collection_id!r}")
        if role is None or (write and role == "reader"):
            why = "has no role on" if role is None else "may only read"
            self.audit_denied(org.name, "denied", collection_id, "write" if write else "read")
            raise TaxiiError(403, "Forbidden", f"your organisation {why} this collection")
        return str(role)

    # -- writing ----------------------------------------------------------------------------

    def add_objects(self, org: Org, collection_id: str, objects: Sequence[object]) -> dict[str, Any]:
        """Store a POSTed envelope's objects (each whole or not at all); returns the status resource."""
        self.access(org, collection_id, write=True)
        result = AddResult()
        rows: list[tuple[dict[str, Any], str, int, str]] = []
        for obj in objects:
            problem = check_object(obj)
            ident = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""
            if problem:
                result.failures.append({"id": str(ident)[:300], "message": problem})
                continue
            assert isinstance(obj, dict)
            version, version_text = _version_of(obj)
            rows.append((obj, str(ident), version, version_text))
        requested = now_us()
        with self.engine.begin() as conn:
            c = _db.collections.c
            # the lock: the first statement of the transaction writes the collection's row
            conn.execute(update(_db.collections).where(c.id == collection_id).values(writes=c.writes + 1))
            last = int(conn.execute(select(c.last_added).where(c.id == collection_id)).scalar_one())
            added = max(now_us(), last + 1)
            o = _db.objects.c
            for obj, ident, version, version_text in rows:
                dup = conn.execute(
                    select(o.pk).where(
                        o.collection_id == collection_id, o.stix_id == ident, o.version == version
                    )
                ).first()
                if dup is None:
                    pk = conn.execute(
                        insert(_db.objects).values(
                            collection_id=collection_id,
                            stix_id=ident,
                            stix_type=obj["type"],
                            spec_version=str(obj.get("spec_version", "2.1")),
                            version=version,
                            version_text=version_text,
                            date_added=added,
                            producer=org.name,
                            tlp=tlp_of(obj).value,
                            body=json.dumps(obj, separators=(",", ":"), ensure_ascii=False),
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                    names = recipients_of(obj)
                    if names:
                        conn.execute(
                            insert(_db.recipients), [{"object_pk": pk, "org_name": n} for n in names]
                        )
                    stamp = format_timestamp(added)
                    added += 1
                else:
                    stamp = ""
                success = {"id": ident, "version": version_text or stamp}
                result.successes.append(success)
            conn.execute(update(_db.collections).where(c.id == collection_id).values(last_added=added - 1))
            status_id = str(uuid.uuid4())
            status = {
                "id": status_id,
                "status": "complete",
                "request_timestamp": format_timestamp(requested),
                "total_count": len(objects),
                "success_count": len(result.successes),
                "successes": result.successes,
                "failure_count": len(result.failures),
                "failures": result.failures,
                "pending_count": 0,
                "pendings": [],
            }
            conn.execute(insert(_db.statuses).values(id=status_id, org_id=org.id, body=json.dumps(status)))
            self._audit(
                conn,
                org.name,
                "write",
                collection_id,
                json.dumps({"status": status_id, "ids": [s["id"] for s in result.successes]}),
            )
        return status

    def delete_object(self, org: Org, collection_id: str, stix_id: str, filters: Filters) -> int:
        """Delete the versions of an object ``org`` produced (any version for a collection admin)."""
        role = self.access(org, collection_id, write=True)
        o = _db.objects.c
        with self.engine.begin() as conn:
            cond = [o.collection_id == collection_id, o.stix_id == stix_id, self._readable(org)]
            if role != "admin":
                cond.append(o.producer == org.name)
            if filters.versions != ("all",) or filters.spec_versions:
                cond.append(self._version_clause(org, filters))
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
        result: dict[str, Any] = json.loads(body)
        return result

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _readable(org: Org, table: Any = None) -> ColumnElement[bool]:
        """The TLP rule of :func:`mamori.share.tlp.may_read` as SQL, for ``org``."""
        o = (table if table is not None else _db.objects).c
        r = _db.recipients.c
        named = exists().where(r.object_pk == o.pk, r.org_name == org.name)
        return or_(
            o.tlp.in_([Tlp.CLEAR.value, Tlp.GREEN.value]),
            o.producer == org.name,
            and_(o.tlp.in_([Tlp.AMBER.value, Tlp.RED.value]), named),
        )

    def _version_clause(self, org: Org, filters: Filters) -> ColumnElement[bool]:
        o = _db.objects.c
        clauses: list[ColumnElement[bool]] = []
        if "all" in filters.versions:
            clauses.append(o.pk.isnot(None))
        for word, agg in (("last", func.max), ("first", func.min)):
            if word in filters.versions:
                o2 = _db.objects.alias("o2")
                sub = (
                    select(agg(o2.c.version))
                    .where(
                        o2.c.collection_id == o.collection_id,
                        o2.c.stix_id == o.stix_id,
                        self._readable(org, o2),
                        *([o2.c.spec_version.in_(filters.spec_versions)] if filters.spec_versions else []),
                    )
                    .scalar_subquery()
                )
                clauses.append(o.version == sub)
        stamps = [parse_timestamp(v) for v in filters.versions if v not in ("all", "last", "first")]
        if stamps:
            clauses.append(o.version.in_([s for s in stamps if s is not None]))
        result = or_(*clauses)
        if filters.spec_versions:
            result = and_(result, o.spec_version.in_(filters.spec_versions))
        return result

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
        o = _db.objects.c
        cond: list[ColumnElement[bool]] = [o.collection_id == collection_id, self._readable(org)]
        if object_id is not None:
            cond.append(o.stix_id == object_id)
        if filters.ids:
            cond.append(o.stix_id.in_(filters.ids))
        if filters.types:
            cond.append(o.stix_type.in_(filters.types))
        if filters.added_after is not None:
            cond.append(o.date_added > filters.added_after)
        if endpoint != "versions":
            cond.append(self._version_clause(org, filters))
        elif filters.spec_versions:
            cond.append(o.spec_version.in_(filters.spec_versions))
        with self.engine.begin() as conn:
            if next_token is not None:
                cursor_added, cursor_pk = self._redeem(conn, org, scope, next_token)
                cond.append(
                    or_(o.date_added > cursor_added, and_(o.date_added == cursor_added, o.pk > cursor_pk))
                )
            result = conn.execute(
                select(o.pk, o.stix_id, o.version, o.version_text, o.date_added, o.spec_version, o.body)
                .where(*cond)
                .order_by(o.date_added, o.pk)
                .limit(size + 1)
            ).all()
            more = len(result) > size
            rows = tuple(
                Row(
                    r.pk,
                    r.stix_id,
                    r.version_text or format_timestamp(r.date_added),
                    r.date_added,
                    r.spec_version,
                    r.body,
                )
                for r in result[:size]
            )
            token = None
            if more:
                token = secrets.token_urlsafe(24)
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
            self._audit(
                conn,
                org.name,
                "read",
                collection_id,
                json.dumps({"endpoint": endpoint, "ids": sorted({r.stix_id for r in rows})}),
            )
        return Page(rows, more, token)

    def _redeem(self, conn: Any, org: Org, scope: str, token: str) -> tuple[int, int]:
        t = _db.page_tokens.c
        row = conn.execute(
            select(t.org_id, t.scope, t.cursor_added, t.cursor_pk, t.created, t.used).where(
                t.token_hash == hash_token(token)
            )
        ).first()
        if row is None or row.org_id != org.id:
            raise TaxiiError(400, "Invalid next", "the 'next' token was not issued to you by this server")
        if row.scope != scope:
            raise TaxiiError(
                400, "Invalid next", "the 'next' token belongs to another request (endpoint or filters)"
            )
        if row.created + TOKEN_LIFETIME_US < now_us():
            raise TaxiiError(400, "Expired next", "the 'next' token has expired; start again")
        claimed = conn.execute(
            update(_db.page_tokens)
            .where(t.token_hash == hash_token(token), t.used.is_(False))
            .values(used=True)
        ).rowcount
        if row.used or claimed != 1:
            raise TaxiiError(400, "Replayed next", "the 'next' token was already used")
        return int(row.cursor_added), int(row.cursor_pk)

    # -- audit --------------------------------------------------------------------------------

    def _audit(self, conn: Any, org: str, action: str, collection_id: str, detail: str) -> None:
        conn.execute(
            insert(_db.audit).values(
                at=now_us(), org=org, action=action, collection_id=collection_id, detail=detail
            )
        )

    def audit_denied(self, who: str, action: str, collection_id: str, detail: str) -> None:
        """Record a refused request (bad credentials, no role) in the audit log."""
        with self.engine.begin() as conn:
            self._audit(conn, who, action, collection_id, detail)

    def audit_log(self) -> list[dict[str, Any]]:
        """The whole audit log, oldest first."""
        a = _db.audit.c
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(_db.audit).order_by(a.id))]
