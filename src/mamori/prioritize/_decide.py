"""From a finding and its evidence to SSVC decision points, a decision, a score and reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from mamori.model import Finding, Priority
from mamori.prioritize import ssvc
from mamori.prioritize.interface import (
    AssetContext,
    EnrichmentSource,
    EpssFact,
    Exploitation,
    KevFact,
    Reachability,
    SsvcInputs,
    TechnicalImpact,
)

EPSS_POC_THRESHOLD = 0.1
"""An EPSS probability at or above this counts as a proof of concept at least."""

# CWE classes whose exploitation gives total control of the software or total disclosure.
TOTAL_IMPACT_CWES = frozenset(
    {
        "CWE-77",
        "CWE-78",
        "CWE-89",
        "CWE-94",
        "CWE-95",
        "CWE-96",
        "CWE-98",
        "CWE-287",
        "CWE-288",
        "CWE-306",
        "CWE-434",
        "CWE-502",
        "CWE-798",
        "CWE-917",
        "CWE-1336",
    }
)

# Injection classes with a well-known method of exploitation (SSVC's PoC condition 4).
WELL_KNOWN_EXPLOIT_CWES = frozenset(
    {"CWE-22", "CWE-77", "CWE-78", "CWE-79", "CWE-89", "CWE-94", "CWE-502", "CWE-611", "CWE-918", "CWE-1336"}
)

EXPLOIT_REFERENCE_HOSTS = ("exploit-db.com", "packetstormsecurity", "rapid7.com/db/modules", "metasploit")

_LOCAL_SOURCES = ("sys.argv", "input(", "os.environ", "getenv", "argparse", "click", "stdin")

_SEVERITY_BASE = {"critical": 9.5, "high": 8.0, "medium": 5.5, "low": 3.0, "info": 0.5, "unknown": 5.0}


def cves(finding: Finding) -> list[str]:
    """The CVE ids among a finding's ids and aliases."""
    return sorted({i for i in finding.all_ids if i.upper().startswith("CVE-")})


def _cvss_metrics(finding: Finding) -> tuple[dict[str, str], float | None]:
    """Metrics of the highest-version CVSS vector the advisory gives, and its base score."""
    from mamori._cvss import parse_vector

    vectors = finding.advisory.cvss if finding.advisory else ()
    if not vectors:
        return {}, None
    vec = max(vectors)  # CVSS:4.0 before CVSS:3.1 before CVSS:3.0
    score, metrics = parse_vector(vec)
    return dict(metrics), score


def exploitation(
    finding: Finding, kev: KevFact | None, epss: EpssFact | None, reasons: list[str]
) -> Exploitation:
    """Active when CISA KEV lists it; PoC when EPSS is high, an exploit is referenced or the
    flaw is an injection with a well-known method; else none."""
    if kev is not None:
        extra = "; known ransomware use" if kev.ransomware else ""
        due = f", due {kev.due_date}" if kev.due_date else ""
        reasons.append(f"exploitation active: {kev.cve} is in CISA KEV since {kev.date_added}{due}{extra}")
        return "active"
    if epss is not None and epss.score >= EPSS_POC_THRESHOLD:
        reasons.append(
            f"exploitation poc: EPSS {epss.score:.3f} (percentile {epss.percentile:.2f}) "
            f">= {EPSS_POC_THRESHOLD} for {epss.cve}"
        )
        return "poc"
    refs = finding.advisory.references if finding.advisory else ()
    exploit_refs = [r for r in refs if any(h in r for h in EXPLOIT_REFERENCE_HOSTS)]
    if exploit_refs:
        reasons.append(f"exploitation poc: public exploit referenced ({exploit_refs[0]})")
        return "poc"
    proof = finding.proof if finding.kind == "code" else None
    if proof is not None and proof.status == "proven":
        # only a proof of vulnerability is a PoC for a code finding: a claim of the analysis is not
        request = proof.request or {}
        reasons.append(
            f"exploitation poc: proven by a request ({request.get('method', '')} {request.get('url', '')}): "
            f"{proof.reason}"
        )
        return "poc"
    if finding.kind == "code":
        why = (
            f" ({proof.status.replace('_', ' ')}: {proof.reason})"
            if proof is not None and proof.reason
            else ""
        )
        reasons.append(
            f"exploitation none: no proof of vulnerability{why}, not in CISA KEV, no public exploit"
        )
        return "none"
    if epss is not None:
        reasons.append(f"exploitation none: EPSS {epss.score:.3f} for {epss.cve}, not in CISA KEV")
    else:
        reasons.append("exploitation none: not in CISA KEV, no EPSS score, no public exploit known")
    return "none"


def automatable(
    finding: Finding, metrics: dict[str, str], reach: Reachability, context: AssetContext, reasons: list[str]
) -> bool:
    """Can an attacker automate exploitation at scale? Network-reachable without privileges or
    user interaction (CVSS AV:N/PR:N/UI:N), or a web request source for code findings."""
    if context.exposure == "isolated":
        reasons.append("automatable no: the asset is configured as isolated")
        return False
    if reach == "unreachable":
        reasons.append("automatable no: the vulnerable code is not reached from the project's code")
        return False
    if finding.kind == "code":
        source = finding.trace[0].note if finding.trace else ""
        if not finding.trace:
            reasons.append("automatable no: a weakness without an attacker-controlled input")
            return False
        if any(s in source for s in _LOCAL_SOURCES):
            reasons.append(f"automatable no: the input is local ({source})")
            return False
        reasons.append(f"automatable yes: remote input reaches the sink ({source or 'request data'})")
        return True
    if metrics:
        ui = metrics.get("UI", "")
        network = metrics.get("AV") == "N"
        no_priv = metrics.get("PR") == "N"
        no_user = ui in ("N",)
        if network and no_priv and no_user:
            reasons.append("automatable yes: CVSS says network attack, no privileges, no user interaction")
            return True
        reasons.append(
            f"automatable no: CVSS AV:{metrics.get('AV', '?')} PR:{metrics.get('PR', '?')} UI:{ui or '?'}"
        )
        return False
    if set(finding.cwe) & WELL_KNOWN_EXPLOIT_CWES and context.exposure == "internet":
        cwes = ", ".join(finding.cwe)
        reasons.append(f"automatable yes: {cwes} on an internet-facing asset, no CVSS given")
        return True
    reasons.append("automatable no: no CVSS vector or CWE that says otherwise")
    return False


def technical_impact(finding: Finding, metrics: dict[str, str], reasons: list[str]) -> TechnicalImpact:
    """Total when exploitation yields total control or disclosure (CVSS C:H and I:H, or a CWE of
    code execution, injection or authentication bypass); partial otherwise."""
    c = metrics.get("C") or metrics.get("VC")
    i = metrics.get("I") or metrics.get("VI")
    if c == "H" and i == "H":
        reasons.append("technical impact total: CVSS confidentiality and integrity high")
        return "total"
    total_cwes = sorted(set(finding.cwe) & TOTAL_IMPACT_CWES)
    if total_cwes:
        reasons.append(f"technical impact total: {', '.join(total_cwes)} gives control of the software")
        return "total"
    if metrics:
        reasons.append(f"technical impact partial: CVSS C:{c or '?'} I:{i or '?'}")
    else:
        reasons.append("technical impact partial: no CVSS vector and no CWE of total control")
    return "partial"


def decide_one(
    finding: Finding,
    *,
    enrichment: EnrichmentSource | None,
    context: AssetContext,
    reach: tuple[Reachability, str],
) -> Finding:
    """The finding with its :class:`Priority` set."""
    reasons: list[str] = []
    ids = cves(finding)
    kev = next((k for k in (enrichment.kev(c) for c in ids) if k), None) if enrichment else None
    epss_all = [e for e in (enrichment.epss(c) for c in ids) if e] if enrichment else []
    epss = max(epss_all, key=lambda e: e.score) if epss_all else None
    metrics, base = _cvss_metrics(finding)
    reach_state, reach_reason = reach
    inputs = SsvcInputs(
        exploitation=exploitation(finding, kev, epss, reasons),
        automatable=automatable(finding, metrics, reach_state, context, reasons),
        technical_impact=technical_impact(finding, metrics, reasons),
        mission_wellbeing=context.mission_wellbeing,
    )
    sector = f" ({context.sector})" if context.sector else ""
    reasons.append(f"mission and well-being {inputs.mission_wellbeing}{sector}")
    if reach_reason:
        reasons.append(f"reachability {reach_state}: {reach_reason}")
    decision = ssvc.decide(inputs)
    score = _score(finding, base, kev, epss, reach_state)
    reasons.insert(0, ssvc.vector(inputs, decision))
    return replace(
        finding,
        priority=Priority(decision=decision, score=score, reasons=tuple(reasons)),
        reachability=reach_state,
        reachability_evidence=reach_reason,
    )


def _score(
    finding: Finding,
    base: float | None,
    kev: KevFact | None,
    epss: EpssFact | None,
    reach: Reachability,
) -> float:
    """Ordering within a decision, 0–100: severity (up to 50), EPSS (up to 25), KEV (15, plus 5
    for ransomware use), reachability (+5 reachable, −10 unreachable)."""
    sev = base if base is not None else _SEVERITY_BASE.get(finding.severity, 5.0)
    score = sev * 5.0
    if epss is not None:
        score += 25.0 * epss.score
    if kev is not None:
        score += 15.0 + (5.0 if kev.ransomware else 0.0)
    adjust: dict[str, float] = {"reachable": 5.0, "unreachable": -10.0}
    score += adjust.get(reach, 0.0)
    return round(max(0.0, min(100.0, score)), 2)


ReachState = Literal["reachable", "unreachable", "unknown"]
