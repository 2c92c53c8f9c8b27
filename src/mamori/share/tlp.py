"""TLP 2.0 as the hub enforces it: which marking an object carries and who may read it.

A label is only worth what the server does with it. The hub decides readability here, in one
place, and the storage layer turns the same rule into SQL (see :mod:`mamori.share._hub`) so that
pagination never counts objects a reader may not see. The rule (public contract):

* CLEAR and GREEN: every organisation of the hub;
* AMBER: the producer's organisation and the organisations named in ``x_mamori_recipients``;
* AMBER+STRICT: the producer's organisation only;
* RED: the named recipients and the producer.

It fails closed (contract, additions): marking ids compare case-insensitively; an object with no
marking is AMBER; an object carrying *any* marking the hub does not recognise (next to a TLP one
or not) is readable only by its producer and the organisations in ``x_mamori_recipients`` (the
RED rule, which is how the hub stores it); otherwise the most restrictive recognised marking
wins. AMBER may name whole sectors in ``x_mamori_recipient_sectors`` (what ``share push`` to a
sector collection records): their organisations are recipients too. Granular markings apply to
the fields they select (:func:`redact`): a reader the marking does not admit gets the object
without those fields; a granular marking on a property the object cannot lose (its id, type,
pattern, …) or with a selector the hub cannot parse counts for the whole object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Tlp(StrEnum):
    """TLP 2.0 levels, least restrictive first (their order is their rank)."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 for CLEAR up to 4 for RED."""
        return list(Tlp).index(self)

    @property
    def marking_id(self) -> str:
        """The TLP 2.0 marking-definition id of this level."""
        return TLP2_MARKINGS[self]


TLP2_MARKINGS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The TLP 2.0 marking definitions (OASIS TLP 2.0 extension), by level."""

TLP1_MARKINGS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
"""The TLP 1.0 marking definitions the ``stix2`` library ships (WHITE counts as CLEAR)."""

MARKING_LEVELS: dict[str, Tlp] = {**{v: k for k, v in TLP2_MARKINGS.items()}, **TLP1_MARKINGS}
"""Every recognised marking-definition id with its level."""

RECIPIENTS_PROPERTY = "x_mamori_recipients"
"""The object property naming the recipient organisations of AMBER and RED objects."""

RECIPIENT_SECTORS_PROPERTY = "x_mamori_recipient_sectors"
"""The object property naming recipient sectors of an AMBER object (every organisation of them)."""

DEFAULT_TLP = Tlp.AMBER
"""The level of an object with no marking at all."""

UNRECOGNISED_TLP = Tlp.RED
"""How an object with any unrecognised marking is handled: producer and named recipients only."""

_REQUIRED = frozenset(
    {
        "type", "id", "spec_version", "created", "modified", "created_by_ref", "object_marking_refs",
        "granular_markings", "revoked", RECIPIENTS_PROPERTY, RECIPIENT_SECTORS_PROPERTY,
    }
)  # fmt: skip
_REQUIRED_BY_TYPE: dict[str, frozenset[str]] = {
    "indicator": frozenset({"pattern", "pattern_type", "valid_from"}),
    "relationship": frozenset({"relationship_type", "source_ref", "target_ref"}),
    "sighting": frozenset({"sighting_of_ref"}),
    "report": frozenset({"name", "published", "object_refs"}),
    "grouping": frozenset({"context", "object_refs"}),
    "note": frozenset({"content", "object_refs"}),
    "opinion": frozenset({"opinion", "object_refs"}),
    "observed-data": frozenset({"first_observed", "last_observed", "number_observed"}),
}
"""Properties an object of a type cannot be served without (STIX 2.1 required properties, and
the ones the hub's TLP rule reads): a granular marking on one of them marks the whole object."""
_NAMED = frozenset(
    {
        "attack-pattern", "campaign", "course-of-action", "identity", "infrastructure", "intrusion-set",
        "location", "malware", "threat-actor", "tool", "vulnerability",
    }
)  # fmt: skip


def parse_tlp(text: str) -> Tlp:
    """A level from its name (``clear``, ``green``, ``amber``, ``amber+strict``, ``red``; ``white``
    is CLEAR); raises ``ValueError`` for anything else."""
    name = text.strip().lower().replace("tlp:", "").replace("_", "+").replace(" ", "")
    if name == "white":
        return Tlp.CLEAR
    if name == "amberstrict":
        name = "amber+strict"
    return Tlp(name)


def level_of_ref(ref: object) -> Tlp | None:
    """The level of one marking reference (case-insensitive), None when the hub does not know it."""
    if not isinstance(ref, str):
        return None
    return MARKING_LEVELS.get(ref.strip().lower())


def _levels(refs: Iterable[object]) -> Tlp | None:
    """The most restrictive level of some marking references; UNRECOGNISED_TLP if any is unknown;
    None for no references."""
    levels = [level_of_ref(r) for r in refs]
    if not levels:
        return None
    if any(lvl is None for lvl in levels):
        return UNRECOGNISED_TLP
    return max((lvl for lvl in levels if lvl is not None), key=lambda t: t.rank)


def _top(selector: object) -> str | None:
    """The top-level property a granular selector names, or None when it is not a selector."""
    if not isinstance(selector, str) or not selector or selector.startswith((".", "[")):
        return None
    top = selector.split(".", 1)[0]
    return top if top and "[" not in top and "]" not in top else None


def _required(obj: Mapping[str, Any]) -> frozenset[str]:
    kind = str(obj.get("type", ""))
    extra = _REQUIRED_BY_TYPE.get(kind, frozenset())
    if kind in _NAMED:
        extra = extra | {"name"}
    return _REQUIRED | extra


@dataclass(frozen=True, slots=True)
class FieldMarking:
    """A granular marking the hub enforces: the level and the top-level properties it covers."""

    level: Tlp
    fields: frozenset[str]


def granular_of(obj: Mapping[str, Any]) -> tuple[Tlp | None, tuple[FieldMarking, ...]]:
    """The object-wide level granular markings force (a marking on a property the object cannot
    lose, a selector that is not one, a malformed entry) and the field markings left.

    ``lang`` markings and TLP levels no stricter than the object's are harmless either way; the
    caller keeps only those that restrict someone."""
    value = obj.get("granular_markings")
    if value is None:
        return None, ()
    whole: list[Tlp] = []
    fields: list[FieldMarking] = []
    if not isinstance(value, list):
        return UNRECOGNISED_TLP, ()
    required = _required(obj)
    for gm in value:
        if not isinstance(gm, Mapping):
            whole.append(UNRECOGNISED_TLP)
            continue
        ref = gm.get("marking_ref")
        if ref is None and "lang" in gm:
            continue  # a language marking restricts no one
        level = level_of_ref(ref) or UNRECOGNISED_TLP
        selectors = gm.get("selectors")
        tops = [_top(s) for s in selectors] if isinstance(selectors, list) and selectors else [None]
        if any(t is None or t in required for t in tops):
            whole.append(level)
        else:
            fields.append(FieldMarking(level, frozenset(t for t in tops if t is not None)))
    most = max(whole, key=lambda t: t.rank) if whole else None
    return most, tuple(fields)


def tlp_of(obj: Mapping[str, Any]) -> Tlp:
    """The level that governs who may read a STIX object at all (fail closed).

    Its most restrictive recognised marking (ids compared case-insensitively), AMBER with none;
    any unrecognised marking makes it :data:`UNRECOGNISED_TLP`; granular markings on properties
    the object cannot lose count as object markings."""
    refs = obj.get("object_marking_refs")
    level = _levels(refs if isinstance(refs, list) else ([] if refs is None else [refs]))
    forced, _fields = granular_of(obj)
    found = [lvl for lvl in (level, forced) if lvl is not None]
    if not found:
        return DEFAULT_TLP
    return max(found, key=lambda t: t.rank)


def recipients_of(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The organisations an object names in ``x_mamori_recipients`` (strings only, de-duplicated)."""
    value = obj.get(RECIPIENTS_PROPERTY)
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


def recipient_sectors_of(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The sectors an object names in ``x_mamori_recipient_sectors`` (strings only, de-duplicated)."""
    value = obj.get(RECIPIENT_SECTORS_PROPERTY)
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


def may_read(
    level: Tlp,
    producer: str,
    recipients: Iterable[str],
    reader: str,
    *,
    reader_sector: str | None = None,
    sectors: Iterable[str] = (),
) -> bool:
    """Whether organisation ``reader`` (of ``reader_sector``) may read an object of ``level``
    produced by ``producer``, naming ``recipients`` and (AMBER only) recipient ``sectors``."""
    if level in (Tlp.CLEAR, Tlp.GREEN) or reader == producer:
        return True
    if level is Tlp.AMBER_STRICT:
        return False
    if reader in set(recipients):
        return True
    return level is Tlp.AMBER and reader_sector is not None and reader_sector in set(sectors)


def restricted_fields(obj: Mapping[str, Any]) -> tuple[FieldMarking, ...]:
    """The granular markings of an object that apply to some of its fields. Each is checked on
    its own: a reader must be admitted by the object's level *and* the field's (AMBER+STRICT on
    a field of a RED object keeps that field from the RED recipients)."""
    _forced, fields = granular_of(obj)
    return fields


def redact(
    obj: Mapping[str, Any], producer: str, reader: str, *, reader_sector: str | None = None
) -> dict[str, Any]:
    """``obj`` as ``reader`` may see it: without the properties of granular markings that do not
    admit it (the object's own recipients are the audience of its granular markings too)."""
    out = dict(obj)
    recipients = recipients_of(obj)
    sectors = recipient_sectors_of(obj)
    for fm in restricted_fields(obj):
        if not may_read(fm.level, producer, recipients, reader, reader_sector=reader_sector, sectors=sectors):
            for name in fm.fields:
                out.pop(name, None)
    return out
