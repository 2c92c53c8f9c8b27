"""The hub's sector taxonomy and the TAXII collection of each sector.

Organisations share first with their own sector, then across sectors. The default taxonomy is
Japan's designated critical-infrastructure sectors, spelled as in the public contract; a hub may
use another list (``MAMORI_HUB_SECTORS``, comma separated). Collection ids are derived from the
sector name (UUID v5), so every hub with the same taxonomy gives a sector the same id and users
can also name a collection by its sector (``--collection finance``).
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass

from mamori.errors import InputError

DEFAULT_SECTORS: tuple[str, ...] = (
    "information-communications",
    "finance",
    "aviation",
    "airports",
    "railways",
    "electric-power",
    "gas",
    "government",
    "medical",
    "water",
    "logistics",
    "chemicals",
    "credit-cards",
    "petroleum",
    "ports",
)
"""Japan's 15 designated critical-infrastructure sectors."""

CROSS_SECTOR = "cross-sector"
"""The alias of the collection every organisation shares with every sector."""

_NAMESPACE = uuid.UUID("5b7c1a40-8f2e-5d6b-9a3c-6d616d6f7269")
_SECTOR_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """A collection the hub creates: its id, alias (sector name or ``cross-sector``) and title."""

    id: str
    alias: str
    title: str
    description: str


def collection_id(alias: str) -> str:
    """The deterministic collection id of a sector (or of ``cross-sector``)."""
    return str(uuid.uuid5(_NAMESPACE, f"mamori-collection:{alias}"))


def configured_sectors() -> tuple[str, ...]:
    """The taxonomy in force: ``MAMORI_HUB_SECTORS`` if set, else :data:`DEFAULT_SECTORS`."""
    env = os.environ.get("MAMORI_HUB_SECTORS", "").strip()
    if not env:
        return DEFAULT_SECTORS
    names = tuple(dict.fromkeys(s.strip().lower() for s in env.split(",") if s.strip()))
    for name in names:
        if not _SECTOR_NAME.match(name) or name == CROSS_SECTOR:
            raise InputError(f"MAMORI_HUB_SECTORS: {name!r} is not a valid sector name (a-z, 0-9, '-')")
    return names


def collections_for(sectors: tuple[str, ...]) -> tuple[CollectionSpec, ...]:
    """One collection per sector plus the cross-sector one."""
    specs = [
        CollectionSpec(
            id=collection_id(s),
            alias=s,
            title=f"{s} sector",
            description=f"Threat intelligence shared within the {s} sector.",
        )
        for s in sectors
    ]
    specs.append(
        CollectionSpec(
            id=collection_id(CROSS_SECTOR),
            alias=CROSS_SECTOR,
            title="cross-sector",
            description="Threat intelligence shared across every sector of the hub.",
        )
    )
    return tuple(specs)
