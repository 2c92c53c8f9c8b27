"""Prioritise like a responder: KEV, EPSS, CVSS, reachability and CISA's SSVC tree.

Public interface: :func:`prioritize` (findings → findings with :class:`mamori.model.Priority`
set), :func:`asset_context` (``[asset]`` of the project configuration), VEX
(:func:`read_vex`, :func:`apply_vex`) and ignores (:func:`parse_ignores`, :func:`apply_ignores`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.model import Finding
from mamori.prioritize._decide import decide_one
from mamori.prioritize.entrypoints import EntryIndex, code_reachability, entry_index
from mamori.prioritize.ignores import Ignore, apply_ignores, parse_ignores
from mamori.prioritize.interface import AssetContext, EnrichmentSource, EpssFact, KevFact, SsvcInputs
from mamori.prioritize.reachability import ProjectUsage, dependency_reachability, project_usage
from mamori.prioritize.ssvc import decide
from mamori.prioritize.vex import VexStatement, apply_vex, read_vex
from mamori.pyfacts import FactsCache
from mamori.share.sectors import DEFAULT_SECTORS

SECTORS = DEFAULT_SECTORS
"""The default sector taxonomy: Japan's designated critical-infrastructure sectors."""

__all__ = [
    "SECTORS",
    "AssetContext",
    "EnrichmentSource",
    "EpssFact",
    "Ignore",
    "KevFact",
    "SsvcInputs",
    "VexStatement",
    "apply_ignores",
    "apply_vex",
    "asset_context",
    "decide",
    "parse_ignores",
    "prioritize",
    "read_vex",
]


def asset_context(config: dict[str, Any], source: str = "mamori.toml") -> AssetContext:
    """The ``[asset]`` table of a project configuration (name, sector, criticality, exposure)."""
    raw = config.get("asset", {})
    if not isinstance(raw, dict):
        raise InputError("`asset` must be a table", path=source)
    sector = str(raw.get("sector", "")).lower()
    if sector and sector not in SECTORS:
        raise InputError(f"asset sector {sector!r} is not one of: {', '.join(SECTORS)}", path=source)
    crit = raw.get("criticality")
    if crit is not None and crit not in ("low", "medium", "high"):
        raise InputError("asset criticality must be low, medium or high", path=source)
    exposure = raw.get("exposure", "internet")
    if exposure not in ("internet", "internal", "isolated"):
        raise InputError("asset exposure must be internet, internal or isolated", path=source)
    return AssetContext(name=str(raw.get("name", "")), sector=sector, criticality=crit, exposure=exposure)


def prioritize(
    findings: Iterable[Finding],
    *,
    enrichment: EnrichmentSource | None = None,
    context: AssetContext | None = None,
    root: Path | None = None,
    usage: ProjectUsage | None = None,
    peers: Mapping[str, Sequence[str]] | None = None,
    facts: FactsCache | None = None,
) -> list[Finding]:
    """Every finding with a decision (act, attend, track*, track), a score and its reasons.

    ``root`` is the project folder whose Python code is read for reachability (or pass a
    precomputed ``usage``); ``enrichment`` supplies KEV and EPSS facts; ``peers`` maps advisory
    ids that organisations of the sharing hub reported to the names they gave (a finding one of
    them names ranks higher within its decision, and says so). ``facts`` is the per-file facts
    cache the code analysis filled (:mod:`mamori.pyfacts`): reachability then parses no file
    the analysis already read.
    """
    context = context or AssetContext()
    findings = list(findings)
    prefetch = getattr(enrichment, "prefetch", None)
    if prefetch is not None:
        prefetch({i for f in findings for i in f.all_ids if i.upper().startswith("CVE-")})
    if usage is None:
        needs_usage = root is not None and any(f.kind == "dependency" for f in findings)
        usage = project_usage(root, facts=facts) if needs_usage and root is not None else ProjectUsage()
    needs_entries = root is not None and any(f.kind == "code" for f in findings)
    entries = entry_index(root, facts=facts) if needs_entries and root is not None else EntryIndex()
    if facts is not None:
        facts.save()
    out: list[Finding] = []
    for f in findings:
        reach = dependency_reachability(f, usage) if f.kind == "dependency" else code_reachability(f, entries)
        decided = decide_one(f, enrichment=enrichment, context=context, reach=reach)
        out.append(_peer_boost(decided, peers) if peers else decided)
    return out


PEER_BOOST = 10.0
"""Score added when peers of the sharing hub reported the same vulnerability."""


def _peer_boost(finding: Finding, peers: Mapping[str, Sequence[str]]) -> Finding:
    shared = sorted({i for i in finding.all_ids if i.upper() in peers})
    if not shared or finding.priority is None:
        return finding
    p = finding.priority
    reason = f"shared by peers of the hub as {', '.join(shared)}: ranked higher within {p.decision}"
    return replace(
        finding,
        priority=replace(p, score=round(min(100.0, p.score + PEER_BOOST), 2), reasons=(*p.reasons, reason)),
    )


class StoreEnrichment:
    """KEV and EPSS facts from the advisory database (:class:`AdvisoryStore`)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._kev: dict[str, dict[str, Any]] | None = None
        self._epss: dict[str, tuple[float, float]] | None = None

    def prefetch(self, cves: set[str]) -> None:
        """Read the KEV and EPSS facts of every CVE of a report in two bulk queries."""
        self._kev = self._store.kev_entries(cves)
        self._epss = self._store.epss_many(cves)

    def kev(self, cve: str) -> KevFact | None:
        """The KEV entry of ``cve`` from the database."""
        entry = self._kev.get(cve.upper()) if self._kev is not None else self._store.kev_entry(cve)
        if not entry:
            return None
        get = entry.get if isinstance(entry, dict) else lambda k, d="": getattr(entry, k, d)
        ransom = str(get("knownRansomwareCampaignUse", "") or get("known_ransomware", "") or "")
        return KevFact(
            cve=cve,
            date_added=str(get("dateAdded", "") or get("date_added", "") or ""),
            due_date=str(get("dueDate", "") or get("due_date", "") or ""),
            ransomware=ransom.lower() == "known",
            name=str(get("vulnerabilityName", "") or get("name", "") or ""),
        )

    def epss(self, cve: str) -> EpssFact | None:
        """The EPSS score of ``cve`` from the database."""
        got = self._epss.get(cve.upper()) if self._epss is not None else self._store.epss(cve)
        if not got:
            return None
        score, percentile = got[0], got[1]
        return EpssFact(cve=cve, score=float(score), percentile=float(percentile))
