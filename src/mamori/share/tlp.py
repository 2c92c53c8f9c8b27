"""TLP 2.0 as the hub enforces it: which marking an object carries and who may read it.

A label is only worth what the server does with it. The hub decides readability here, in one
place, and the storage layer turns the same rule into SQL (see :mod:`mamori.share._hub`) so that
pagination never counts objects a reader may not see. The rule (public contract):

* CLEAR and GREEN: every organisation of the hub;
* AMBER: the producer's organisation and the organisations named in ``x_mamori_recipients``;
* AMBER+STRICT: the producer's organisation only;
* RED: the named recipients and the producer.

An object with no marking, or only markings the hub does not recognise, is AMBER. When an object
carries several recognised TLP markings, the most restrictive one wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

DEFAULT_TLP = Tlp.AMBER
"""The level of an object with no recognised marking."""


def parse_tlp(text: str) -> Tlp:
    """A level from its name (``clear``, ``green``, ``amber``, ``amber+strict``, ``red``; ``white``
    is CLEAR); raises ``ValueError`` for anything else."""
    name = text.strip().lower().replace("tlp:", "").replace("_", "+").replace(" ", "")
    if name == "white":
        return Tlp.CLEAR
    if name == "amberstrict":
        name = "amber+strict"
    return Tlp(name)


def tlp_of(obj: Mapping[str, Any]) -> Tlp:
    """The level of a STIX object: its most restrictive recognised marking, AMBER if none."""
    refs = obj.get("object_marking_refs")
    levels = (
        [MARKING_LEVELS[r] for r in refs if isinstance(r, str) and r in MARKING_LEVELS]
        if isinstance(refs, list)
        else []
    )
    if not levels:
        return DEFAULT_TLP
    return max(levels, key=lambda t: t.rank)


def recipients_of(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The organisations an object names in ``x_mamori_recipients`` (strings only, de-duplicated)."""
    value = obj.get(RECIPIENTS_PROPERTY)
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))


def may_read(level: Tlp, producer: str, recipients: Iterable[str], reader: str) -> bool:
    """Whether organisation ``reader`` may read an object of ``level`` produced by ``producer``."""
    if level in (Tlp.CLEAR, Tlp.GREEN) or reader == producer:
        return True
    if level is Tlp.AMBER_STRICT:
        return False
    return reader in set(recipients)
