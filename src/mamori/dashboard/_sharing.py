"""What the hub received and sent, by sector and TLP: the sharing side of the dashboard.

Received is what organisations wrote into a collection (the ``objects`` table); sent is what
the hub handed out to readers (the ``deliveries`` counts the audit writer keeps as it appends
read records, in batches, so a read shows a moment later; the audit log itself is never
scanned). Both are counted per collection (a sector, or cross-sector) and TLP level. Every
organisation, admin or not, sees only the collections it holds a role on and only the objects
TLP 2.0 lets it read there (the hub's own SQL rule), so the counts never reveal what it may not
see; an organisation that shares anonymously is shown to others as ``anonymous``. Reading these
statistics is not itself audited: it returns counts and object metadata, never an object's
content.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from mamori.share import _db
from mamori.share._hub import Hub, Org, format_timestamp
from mamori.share.sectors import CROSS_SECTOR
from mamori.share.tlp import Tlp

ANONYMOUS = "anonymous"
"""How an organisation that shares anonymously is named to the others."""

TLP_LEVELS: tuple[str, ...] = tuple(t.value for t in Tlp)
"""TLP levels, least restrictive first."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard: an organisation of the hub and what it may see."""

    org: Org
    admin: bool
    """Admin on the cross-sector collection: sees the hub operator's own results (posture,
    speed, attacks); its sharing figures are still those of its own collections and TLP."""
    collections: frozenset[str]
    """Aliases (sector names, ``cross-sector``) of the collections it holds a role on."""


def viewer_of(hub: Hub, org: Org) -> Viewer:
    """The :class:`Viewer` of an authenticated organisation."""
    roles = {spec.alias: role for spec, role in hub.collections(org)}
    return Viewer(org, roles.get(CROSS_SECTOR) == "admin", frozenset(roles))


@dataclass(frozen=True, slots=True)
class SharedObject:
    """One stored object version, as the sharing drill-down lists it (metadata only)."""

    sector: str
    stix_id: str
    stix_type: str
    producer: str
    tlp: str
    added: str
    times_sent: int


@dataclass(frozen=True, slots=True)
class SharingStats:
    """Objects received and sent per (sector, TLP) of the collections the viewer may see."""

    sectors: tuple[str, ...]
    received: dict[tuple[str, str], int]
    sent: dict[tuple[str, str], int]

    def total(self, direction: str) -> int:
        """All objects received (``direction="received"``) or sent."""
        return sum((self.received if direction == "received" else self.sent).values())

    def active(self, sector: str) -> bool:
        """Whether the sector's collection received or sent anything."""
        return any(self.received.get((sector, t)) or self.sent.get((sector, t)) for t in TLP_LEVELS)

    def by_tlp(self, direction: str) -> dict[str, int]:
        """Totals per TLP level (every level, zero when none)."""
        counts = dict.fromkeys(TLP_LEVELS, 0)
        for (_sector, tlp), n in (self.received if direction == "received" else self.sent).items():
            counts[tlp] = counts.get(tlp, 0) + n
        return counts


def _rows(hub: Hub, viewer: Viewer) -> list[tuple[str, int, str, str, str, str, int, int]]:
    """(alias, pk, stix_id, type, producer, tlp, date_added, times sent) of every object
    ``viewer`` may see: in a collection it holds a role on, readable under TLP 2.0."""
    o, c, d = _db.objects.c, _db.collections.c, _db.deliveries.c
    with hub.engine.connect() as conn:
        aliases = dict(conn.execute(select(c.id, c.alias)).all())
        mine = [cid for cid, alias in aliases.items() if alias in viewer.collections]
        if not mine:
            return []
        objects = conn.execute(
            select(
                o.collection_id,
                o.pk,
                o.stix_id,
                o.stix_type,
                o.producer,
                o.tlp,
                o.date_added,
                o.version,
                func.coalesce(d.count, 0).label("sent"),
            )
            .outerjoin(_db.deliveries, and_(d.collection_id == o.collection_id, d.stix_id == o.stix_id))
            .where(o.collection_id.in_(mine), hub.readable_clause(viewer.org))
            .order_by(o.date_added, o.pk)
        ).all()
    hidden = hub.anonymous_names() - {viewer.org.name}
    newest: dict[tuple[str, str], int] = {}
    for row in objects:
        key = (row.collection_id, row.stix_id)
        newest[key] = max(newest.get(key, row.version), row.version)
    out = []
    for row in objects:
        alias = aliases.get(row.collection_id, row.collection_id)
        # a read names object ids, not versions: count the sending against the newest version
        times = int(row.sent) if newest[(row.collection_id, row.stix_id)] == row.version else 0
        producer = ANONYMOUS if row.producer in hidden else row.producer
        out.append((alias, row.pk, row.stix_id, row.stix_type, producer, row.tlp, row.date_added, times))
    return out


def sharing_stats(hub: Hub, viewer: Viewer) -> SharingStats:
    """Objects received and sent per (sector, TLP), over the collections ``viewer`` may see."""
    received: Counter[tuple[str, str]] = Counter()
    sent: Counter[tuple[str, str]] = Counter()
    for alias, _pk, _sid, _type, _producer, tlp, _added, times in _rows(hub, viewer):
        received[(alias, tlp)] += 1
        if times:
            sent[(alias, tlp)] += times
    sectors = sorted(a for a in _all_aliases(hub) if a in viewer.collections)
    return SharingStats(tuple(sectors), dict(received), dict(sent))


def shared_objects(
    hub: Hub, viewer: Viewer, *, sector: str | None = None, tlp: str | None = None, sent: bool = False
) -> tuple[SharedObject, ...]:
    """The visible objects behind a number: those received (or sent, with ``sent``) in a sector at a TLP."""
    return tuple(
        SharedObject(alias, sid, stype, producer, level, format_timestamp(added), times)
        for alias, _pk, sid, stype, producer, level, added, times in _rows(hub, viewer)
        if (sector is None or alias == sector) and (tlp is None or level == tlp) and (not sent or times)
    )


def _all_aliases(hub: Hub) -> list[str]:
    with hub.engine.connect() as conn:
        return [str(a) for a in conn.execute(select(_db.collections.c.alias)).scalars()]
