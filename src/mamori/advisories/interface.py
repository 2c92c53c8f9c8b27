"""The advisories port: OSV advisories as values, and what a lookup returns.

An :class:`Advisory` is an OSV record (https://ossf.github.io/osv-schema/) reduced to what
matching and reporting need. Version ordering per ecosystem is in :mod:`mamori.advisories.versions`,
range evaluation in :mod:`mamori.advisories.ranges`, storage in :mod:`mamori.advisories.store`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.inventory.interface import Component


@dataclass(frozen=True, slots=True)
class RangeEvent:
    """One OSV range event: ``kind`` is introduced, fixed, last_affected or limit."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class AffectedRange:
    """One OSV range: ``type`` is ECOSYSTEM, SEMVER or GIT (GIT is not matched by version)."""

    type: str
    events: tuple[RangeEvent, ...]


@dataclass(frozen=True, slots=True)
class Affected:
    """One ``affected[]`` entry: a package, its ranges and its explicit versions."""

    ecosystem: str
    """OSV ecosystem, possibly with a suffix (``Debian:12``, ``Alpine:v3.18``)."""
    name: str
    purl: str = ""
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    """Affected functions/modules/symbols when the advisory names them (``ecosystem_specific``
    imports/symbols, ``database_specific`` affected_functions); used for reachability."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """An OSV advisory."""

    id: str
    modified: str = ""
    published: str = ""
    withdrawn: str = ""
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[tuple[str, str], ...] = ()
    """(type, score) pairs: ``("CVSS_V3", "CVSS:3.1/AV:N/…")``."""
    database_severity: str = ""
    """A textual severity some databases give (GHSA's ``database_specific.severity``), lower case."""
    cwes: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A component that an advisory affects, with the fixed versions for that package."""

    component: Component
    advisory: Advisory
    fixed: tuple[str, ...] = ()
    kind: str = "exact"
    """``exact`` (the component's version is affected), ``every-version`` (every version its
    range allows is) or ``newest-allowed`` (the newest release its range allows is)."""
    resolved: str = ""
    """For ``newest-allowed``: the release the range was matched as."""
