"""A scan report as CycloneDX 1.6 (``--format cyclonedx``): an SBOM with its vulnerabilities.

Dependency-Track, GUAC and other SBOM platforms ingest a BOM whose ``vulnerabilities`` point
at its components, so this renders the scanned inventory (when given) plus one vulnerability
per finding: its id, source, ratings (severity and the advisory's CVSS vectors), CWE numbers,
the components it affects (by bom-ref), a recommendation naming the version to upgrade to,
and an ``analysis`` for findings closed by VEX (``not_affected``; ``resolved`` for ``fixed``)
or accepted by an ignore (``exploitable`` with the response ``will_not_fix`` and the reason). Code findings affect the project itself (the metadata component).

The document is built with ``cyclonedx-python-lib`` so it validates against the official
schema; the timestamp and serial number are its only variable parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from uuid import UUID

from cyclonedx.model import Property, XsUri
from cyclonedx.model.impact_analysis import ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)

from mamori.inventory.interface import Component
from mamori.model import Finding, Location, Report
from mamori.output._cdx import ROOT_REF, bom_json, component_purl, new_bom
from mamori.output._paths import relative_path
from mamori.output._versions import lowest_fix_above

_SEVERITIES: dict[str, VulnerabilitySeverity] = {
    "critical": VulnerabilitySeverity.CRITICAL,
    "high": VulnerabilitySeverity.HIGH,
    "medium": VulnerabilitySeverity.MEDIUM,
    "low": VulnerabilitySeverity.LOW,
    "info": VulnerabilitySeverity.INFO,
    "unknown": VulnerabilitySeverity.UNKNOWN,
}

_CWE = re.compile(r"^CWE-(\d+)$", re.IGNORECASE)


def cvss_method(vector: str) -> VulnerabilityScoreSource:
    """The CycloneDX rating method of a CVSS vector, by its version prefix."""
    if vector.startswith("CVSS:4"):
        return VulnerabilityScoreSource.CVSS_V4
    if vector.startswith("CVSS:3.1"):
        return VulnerabilityScoreSource.CVSS_V3_1
    if vector.startswith("CVSS:3"):
        return VulnerabilityScoreSource.CVSS_V3
    if vector.startswith(("AV:", "(AV:")):
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def vulnerability_source(vuln_id: str) -> VulnerabilitySource:
    """Who publishes an id: NVD for CVEs, GitHub for GHSAs, OSV (which serves them all) otherwise."""
    if vuln_id.startswith("CVE-"):
        return VulnerabilitySource(name="NVD", url=XsUri(f"https://nvd.nist.gov/vuln/detail/{vuln_id}"))
    if vuln_id.startswith("GHSA-"):
        return VulnerabilitySource(name="GitHub", url=XsUri(f"https://github.com/advisories/{vuln_id}"))
    return VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{vuln_id}"))


def _mamori_source() -> VulnerabilitySource:
    return VulnerabilitySource(name="mamori")


def _datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _cwes(finding: Finding) -> list[int]:
    out = []
    for cwe in finding.cwe:
        m = _CWE.match(cwe.strip())
        if m:
            out.append(int(m.group(1)))
    return sorted(set(out))


def _ratings(finding: Finding, source: VulnerabilitySource) -> list[VulnerabilityRating]:
    severity = _SEVERITIES.get(finding.severity, VulnerabilitySeverity.UNKNOWN)
    vectors = finding.advisory.cvss if finding.advisory is not None else ()
    if not vectors:
        return [VulnerabilityRating(source=source, severity=severity)]
    return [
        VulnerabilityRating(source=source, severity=severity, method=cvss_method(v), vector=v)
        for v in vectors
    ]


def _recommendation(finding: Finding) -> str | None:
    if finding.package is None:
        return None
    fixed = finding.advisory.fixed if finding.advisory is not None else ()
    pkg = finding.package
    target = lowest_fix_above(pkg.ecosystem, pkg.version or pkg.newest, fixed)
    if target:
        text = f"Upgrade {pkg.name} to {target} or later."
        if len(fixed) > 1:
            text += f" Fixed in: {', '.join(fixed)}."
        return text
    if fixed:
        return f"No fixed version above {pkg.version} is known. Fixed in: {', '.join(fixed)}."
    return "No fixed version is known."


def _analysis(finding: Finding) -> VulnerabilityAnalysis | None:
    if finding.status == "accepted":  # still exploitable: the project chose not to fix it (yet)
        return VulnerabilityAnalysis(
            state=ImpactAnalysisState.EXPLOITABLE,
            responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
            detail=finding.justification or None,
        )
    if finding.status == "not_affected":
        return VulnerabilityAnalysis(
            state=ImpactAnalysisState.NOT_AFFECTED, detail=finding.justification or None
        )
    if finding.status == "fixed":
        return VulnerabilityAnalysis(state=ImpactAnalysisState.RESOLVED, detail=finding.justification or None)
    return None


def _where(loc: Location, target_root: Path | None) -> str:
    path = relative_path(loc.path, target_root)
    return f"{path}:{loc.line}" if loc.line else path


def vulnerability(finding: Finding, affects_ref: str, *, target_root: Path | None = None) -> Vulnerability:
    """The CycloneDX vulnerability of one finding, affecting the component ``affects_ref``."""
    adv = finding.advisory
    if finding.kind == "dependency":
        vid = adv.id if adv is not None else finding.rule_id
        source = vulnerability_source(vid)
    else:
        vid = finding.rule_id
        source = _mamori_source()
    references = []
    if adv is not None:
        for alias in adv.aliases:
            if alias != vid:
                references.append(VulnerabilityReference(id=alias, source=vulnerability_source(alias)))
    detail = finding.description or (adv.summary if adv is not None and adv.summary != finding.title else "")
    properties = [
        Property(name="mamori:finding-id", value=finding.id),
        Property(name="mamori:kind", value=finding.kind),
        Property(name="mamori:location", value=_where(finding.location, target_root)),
    ]
    if finding.priority is not None:
        properties.append(Property(name="mamori:decision", value=finding.priority.decision))
        properties.append(Property(name="mamori:priority-score", value=f"{finding.priority.score:g}"))
    for step in finding.trace:
        properties.append(
            Property(
                name="mamori:trace",
                value=f"{_where(Location(step.path, step.line), target_root)} {step.note}",
            )
        )
    return Vulnerability(
        bom_ref=f"mamori:finding:{finding.id}",
        id=vid,
        source=source,
        references=references,
        ratings=_ratings(finding, source),
        cwes=_cwes(finding),
        description=finding.title or None,
        detail=detail or None,
        recommendation=_recommendation(finding),
        published=_datetime(adv.published) if adv is not None else None,
        updated=_datetime(adv.modified) if adv is not None else None,
        analysis=_analysis(finding),
        affects=[BomTarget(ref=affects_ref)],
        properties=properties,
    )


def render_cyclonedx(
    report: Report,
    *,
    components: Sequence[Component] = (),
    target_root: Path | None = None,
    project: str | None = None,
    timestamp: datetime | None = None,
    serial: UUID | None = None,
) -> str:
    """The report as CycloneDX 1.6 JSON: the inventory's components plus the findings.

    Packages of dependency findings missing from ``components`` are added, so every
    ``affects`` reference resolves. ``timestamp`` and ``serial`` fix the variable parts.
    """
    all_components = list(components)
    known = {component_purl(c.ecosystem, c.name, c.version, c.purl) for c in all_components}
    for f in report.findings:
        if f.kind == "dependency" and f.package is not None:
            p = f.package
            purl = component_purl(p.ecosystem, p.name, p.version, p.purl)
            if purl not in known:
                known.add(purl)
                all_components.append(Component(p.ecosystem, p.name, p.version, f.location, purl=purl))
    root = target_root if target_root is not None else Path(report.target)
    name = project or root.resolve().name or "project"
    bom, by_ref = new_bom(name, all_components, timestamp=timestamp, serial=serial)
    for f in report.findings:
        ref = ROOT_REF
        if f.kind == "dependency" and f.package is not None:
            p = f.package
            purl = component_purl(p.ecosystem, p.name, p.version, p.purl)
            ref = purl if purl in by_ref else ROOT_REF
        bom.vulnerabilities.add(vulnerability(f, ref, target_root=target_root))
    return bom_json(bom)
