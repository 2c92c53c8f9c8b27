"""The prioritisation port: what a decision is made from, and where enrichment comes from.

Severity (CVSS), exploitation evidence (KEV, EPSS), reachability and the asset's mission are
separate axes; :func:`mamori.prioritize.prioritize` combines them through CISA's SSVC tree into
a :class:`mamori.model.Priority` with its reasons written out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Exploitation = Literal["none", "poc", "active"]
TechnicalImpact = Literal["partial", "total"]
MissionImpact = Literal["low", "medium", "high"]
Reachability = Literal["reachable", "unreachable", "unknown"]


@dataclass(frozen=True, slots=True)
class KevFact:
    """A CISA KEV catalogue entry for one CVE."""

    cve: str
    date_added: str = ""
    due_date: str = ""
    ransomware: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True)
class EpssFact:
    """A FIRST EPSS score for one CVE."""

    cve: str
    score: float
    percentile: float
    date: str = ""


class EnrichmentSource(Protocol):
    """Where KEV and EPSS facts come from (the advisory database, or a table in tests)."""

    def kev(self, cve: str) -> KevFact | None:
        """The KEV entry of ``cve``, if it is known to be exploited."""
        ...

    def epss(self, cve: str) -> EpssFact | None:
        """The EPSS score of ``cve``, if FIRST scored it."""
        ...


@dataclass(frozen=True, slots=True)
class AssetContext:
    """What the scanned asset means to its owner, from ``[asset]`` in ``mamori.toml``."""

    name: str = ""
    sector: str = ""
    """One of the sector names of the contract (``electric-power``, ``water`` …), or empty."""
    criticality: MissionImpact | None = None
    """Mission and well-being impact if this asset is compromised; None = derive from sector."""
    exposure: Literal["internet", "internal", "isolated"] = "internet"

    @property
    def mission_wellbeing(self) -> MissionImpact:
        """SSVC's Mission & Well-being: the configured criticality, else high for a designated
        critical-infrastructure sector, else medium."""
        if self.criticality is not None:
            return self.criticality
        return "high" if self.sector else "medium"


@dataclass(frozen=True, slots=True)
class SsvcInputs:
    """The four decision points of CISA's SSVC tree."""

    exploitation: Exploitation
    automatable: bool
    technical_impact: TechnicalImpact
    mission_wellbeing: MissionImpact
