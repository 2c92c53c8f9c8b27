"""What the hub received and sent, by sector and TLP: the sharing side of the dashboard.

Received is what organisations wrote into a collection (the ``objects`` table); sent is what
the hub handed out to readers (every ``read`` of objects in the append-only audit log names the
objects it returned; the hub writes its audit log in batches, so a read shows a moment later). Both are counted per collection (a sector, or cross-sector) and TLP level. An admin
organisation sees every collection; any other organisation sees the collections it holds a role
on, and only the objects TLP 2.0 lets it read, so the counts never reveal what it may not see.
Reading these statistics is not itself audited: it returns counts and object metadata, never
an object's content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from mamori.share import _db
from mamori.share._hub import Hub, Org, format_timestamp
from mamori.share.sectors import CROSS_SECTOR
from mamori.share.tlp import Tlp, may_read

_CONTENT_ENDPOINTS = ("objects", "object")
"""Reads that hand out objects' content (a manifest or a version list names them only)."""

TLP_LEVELS: tuple[str, ...] = tuple(t.value for t in Tlp)
"""TLP levels, least restrictive first."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard: an organisation of the hub and what it may see."""

    org: Org
    admin: bool
    """Admin on the cross-sector collection: sees every page and every collection."""
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


def _visible(viewer: Viewer, alias: str, tlp: str, producer: str, recipients: Iterable[str]) -> bool:
    if viewer.admin:
        return True
    if alias not in viewer.collections:
        return False
    try:
        level = Tlp(tlp)
    except ValueError:
        level = Tlp.AMBER
    return may_read(level, producer, recipients, viewer.org.name)


def _rows(hub: Hub, viewer: Viewer) -> list[tuple[str, int, str, str, str, str, int, int]]:
    """(alias, pk, stix_id, type, producer, tlp, date_added, times sent) of every visible object."""
    o, c, r, a = _db.objects.c, _db.collections.c, _db.recipients.c, _db.audit.c
    with hub.engine.connect() as conn:
        aliases = dict(conn.execute(select(c.id, c.alias)).all())
        recips: dict[int, list[str]] = {}
        for pk, name in conn.execute(select(r.object_pk, r.org_name)):
            recips.setdefault(pk, []).append(name)
        sent: Counter[tuple[str, str]] = Counter()
        for cid, detail in conn.execute(
            select(a.collection_id, a.detail).where(a.action == "read").order_by(a.id)
        ):
            try:
                read = json.loads(detail)
                ids = read.get("ids", []) if read.get("endpoint") in _CONTENT_ENDPOINTS else []
            except (ValueError, AttributeError):
                continue
            for ident in ids if isinstance(ids, list) else []:
                if isinstance(ident, str):
                    sent[(cid, ident)] += 1
        objects = conn.execute(
            select(
                o.collection_id, o.pk, o.stix_id, o.stix_type, o.producer, o.tlp, o.date_added, o.version
            ).order_by(o.date_added, o.pk)
        ).all()
    newest: dict[tuple[str, str], int] = {}
    for row in objects:
        key = (row.collection_id, row.stix_id)
        newest[key] = max(newest.get(key, row.version), row.version)
    out = []
    for row in objects:
        alias = aliases.get(row.collection_id, row.collection_id)
        if not _visible(viewer, alias, row.tlp, row.producer, recips.get(row.pk, ())):
            continue
        # a read names object ids, not versions: count the sending against the newest version
        times = (
            sent[(row.collection_id, row.stix_id)]
            if newest[(row.collection_id, row.stix_id)] == row.version
            else 0
        )
        out.append((alias, row.pk, row.stix_id, row.stix_type, row.producer, row.tlp, row.date_added, times))
    return out


def sharing_stats(hub: Hub, viewer: Viewer) -> SharingStats:
    """Objects received and sent per (sector, TLP), over the collections ``viewer`` may see."""
    received: Counter[tuple[str, str]] = Counter()
    sent: Counter[tuple[str, str]] = Counter()
    for alias, _pk, _sid, _type, _producer, tlp, _added, times in _rows(hub, viewer):
        received[(alias, tlp)] += 1
        if times:
            sent[(alias, tlp)] += times
    sectors = sorted(a for a in _all_aliases(hub) if viewer.admin or a in viewer.collections)
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
