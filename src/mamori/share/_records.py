"""The hub's values and the checks that need no database session: errors, organisations,
filters, rows and pages, timestamps, token hashes, what makes a STIX object storable, who first
published an id (the ``owners`` table), and a stored body as one reader may see it.

Split out of :mod:`mamori.share._hub` (which re-exports the public names) to keep each module
small; nothing here holds state.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, exists, func, or_, select, update

from mamori.share import _db
from mamori.share._limits import MAX_JSON_DEPTH, MAX_PATTERN_CHARS, json_depth_exceeds
from mamori.share.tlp import (
    RECIPIENT_SECTORS_PROPERTY,
    Tlp,
    recipient_sectors_of,
    recipients_of,
    redact,
)

TOKEN_LIFETIME_US = 3600 * 1_000_000
"""How long a ``next`` token stays valid."""

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_STIX_ID = re.compile(
    r"^([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
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


Who = tuple[str | BindParameter[str], str | BindParameter[str]]
"""A reader in the SQL TLP rule: its name and its sector's recipient key."""

SECTOR_RECIPIENT = "sector:"
"""How a recipient sector is stored in the ``recipients`` table (organisation names have no ':')."""


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
    sectors = obj.get(RECIPIENT_SECTORS_PROPERTY, [])
    if not isinstance(sectors, list) or not all(isinstance(r, str) for r in sectors):
        return f"{RECIPIENT_SECTORS_PROPERTY!r} must be a list of sector names"
    pattern = obj.get("pattern")
    if pattern is not None and (not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS):
        return f"'pattern' must be a string of at most {MAX_PATTERN_CHARS} characters"
    if json_depth_exceeds(obj, MAX_JSON_DEPTH):
        return f"the object nests deeper than {MAX_JSON_DEPTH} levels"
    return ""


def unknown_recipients(obj: dict[str, Any], orgs: frozenset[str], sectors: set[str]) -> str:
    """Why an object's recipients cannot be stored: names that are no organisation (or sector) of
    the hub."""
    unknown = [n for n in recipients_of(obj) if n not in orgs]
    if unknown:
        return "unknown recipient organisation(s): " + ", ".join(repr(n[:80]) for n in unknown[:5])
    named = recipient_sectors_of(obj)
    bad = [n for n in named if n not in sectors]
    if bad:
        return "unknown recipient sector(s): " + ", ".join(repr(n[:80]) for n in bad[:5])
    return ""  # recipient sectors of anything but AMBER admit no one (tlp.may_read)


def version_of(obj: dict[str, Any]) -> tuple[int, str]:
    """An object's version: its ``modified`` (else ``created``) in microseconds, and as written."""
    for key in ("modified", "created"):
        value = obj.get(key)
        if isinstance(value, str):
            us = parse_timestamp(value)
            if us is not None:
                return us, value
    return 0, ""


def owners_of(conn: Any, ids: Sequence[str]) -> dict[str, int]:
    """The first publisher of each of ``ids`` that has one (objects stored by a hub older than
    the ``owners`` table count by their oldest stored version)."""
    w, o, g = _db.owners.c, _db.objects.c, _db.orgs.c
    found: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        found.update(
            (str(r.stix_id), int(r.org_id))
            for r in conn.execute(select(w.stix_id, w.org_id).where(w.stix_id.in_(chunk)))
        )
        legacy = [x for x in chunk if x not in found]
        if legacy:
            first = (
                select(o.stix_id, func.min(o.pk).label("pk")).where(o.stix_id.in_(legacy)).group_by(o.stix_id)
            ).subquery()
            rows = conn.execute(
                select(o.stix_id, g.id).join(first, first.c.pk == o.pk).join(_db.orgs, g.name == o.producer)
            )
            found.update((str(r.stix_id), int(r.id)) for r in rows)
    return found


def claim_ids(conn: Any, ids: Sequence[str], org_id: int) -> dict[str, int]:
    """Claim unowned ids for ``org_id``; returns every one's owner (the first claim wins)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    w = _db.owners.c
    owners: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        conn.execute(
            maker(_db.owners)
            .values([{"stix_id": x, "org_id": org_id} for x in chunk])
            .on_conflict_do_nothing(index_elements=[w.stix_id])
        )
        owners.update(
            (str(r.stix_id), int(r.org_id))
            for r in conn.execute(select(w.stix_id, w.org_id).where(w.stix_id.in_(chunk)))
        )
    return owners


def bodies_of(conn: Any, pks: Sequence[int]) -> dict[int, str]:
    """The stored bodies of the objects ``pks`` (in batches of 500)."""
    o = _db.objects.c
    out: dict[int, str] = {}
    for i in range(0, len(pks), 500):
        out.update(
            (int(r.pk), str(r.body))
            for r in conn.execute(select(o.pk, o.body).where(o.pk.in_(list(pks[i : i + 500]))))
        )
    return out


def served_body(body: str, producer: str, reader: Org) -> str:
    """A stored body as ``reader`` may get it: granular markings it is not admitted by take
    their fields away (a body without granular markings is served as stored)."""
    if not body or '"granular_markings"' not in body or producer == reader.name:
        return body
    try:
        obj = json.loads(body)
    except ValueError:
        return body
    if not isinstance(obj, dict):
        return body
    shown = redact(obj, producer, reader.name, reader_sector=reader.sector)
    return body if shown == obj else json.dumps(shown, separators=(",", ":"))


def readable_sql(who: Who, table: Any = None) -> ColumnElement[bool]:
    """The TLP rule of :func:`mamori.share.tlp.may_read` as SQL, for the organisation named
    ``who[0]`` whose sector's recipient key is ``who[1]`` (names, or bound parameters in a
    cached statement)."""
    name, sector = who
    o = (table if table is not None else _db.objects).c
    r = _db.recipients.c
    named = exists().where(r.object_pk == o.pk, r.org_name == name)
    in_sector = exists().where(r.object_pk == o.pk, r.org_name == sector)
    return or_(
        o.tlp.in_([Tlp.CLEAR.value, Tlp.GREEN.value]),
        o.producer == name,
        and_(o.tlp.in_([Tlp.AMBER.value, Tlp.RED.value]), named),
        and_(o.tlp == Tlp.AMBER.value, in_sector),
    )


def redeem_token(conn: Any, org: Org, scope: str, token: str) -> tuple[int, int]:
    """Use up a ``next`` token; claiming it is the transaction's first statement (a write), so
    SQLite takes its write lock at once instead of failing to upgrade a read snapshot."""
    t = _db.page_tokens.c
    hashed = hash_token(token)
    claimed = conn.execute(
        update(_db.page_tokens)
        .where(
            t.token_hash == hashed,
            t.used.is_(False),
            t.org_id == org.id,
            t.scope == scope,
            t.created + TOKEN_LIFETIME_US >= now_us(),
        )
        .values(used=True)
    ).rowcount
    row = conn.execute(
        select(t.org_id, t.scope, t.cursor_added, t.cursor_pk, t.created).where(t.token_hash == hashed)
    ).first()
    if row is None or row.org_id != org.id:
        raise TaxiiError(400, "Invalid next", "the 'next' token was not issued to you by this server")
    if row.scope != scope:
        raise TaxiiError(
            400, "Invalid next", "the 'next' token belongs to another request (endpoint or filters)"
        )
    if row.created + TOKEN_LIFETIME_US < now_us():
        raise TaxiiError(400, "Expired next", "the 'next' token has expired; start again")
    if claimed != 1:
        raise TaxiiError(400, "Replayed next", "the 'next' token was already used")
    return int(row.cursor_added), int(row.cursor_pk)
