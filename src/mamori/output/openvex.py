"""OpenVEX (v0.2.0) of what mamori decided about each finding.

Open findings are ``affected`` with an action statement (the version to upgrade to, or the
fix for a code finding). An accepted risk (an ``[[ignore]]``) is still ``affected``: its action
statement says the risk was accepted, why and until when. Findings closed by a VEX statement
are ``not_affected`` (with the justification given) or ``fixed``.

Each statement names the finding's own advisory id (GHSA, PYSEC, …) with every alias; products
are package URLs, or for a code finding the file's path relative to the scanned folder (never
a path of the machine that scanned). A dependency whose advisory names the affected
functions, none of which the project's code references, is stated ``not_affected`` with
``vulnerable_code_not_in_execute_path`` and the evidence — the one case where mamori itself
has evidence enough to say so.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori import __version__
from mamori.model import Finding, Report

CONTEXT = "https://openvex.dev/ns/v0.2.0"

_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)


def vex_status(finding: Finding) -> tuple[str, str, str]:
    """(status, justification, statement text) for one finding, as VEX says it."""
    if finding.status == "fixed":
        return "fixed", "", finding.justification or "fixed"
    if finding.status == "accepted":
        return "affected", "", _acceptance(finding)
    if finding.status == "not_affected":
        text = finding.justification or "not affected"
        just = next((j for j in _JUSTIFICATIONS if j in text), "")
        return "not_affected", just, text
    adv = finding.advisory
    if (
        finding.kind == "dependency"
        and finding.reachability == "unreachable"
        and adv is not None
        and adv.functions
    ):
        return "not_affected", "vulnerable_code_not_in_execute_path", finding.reachability_evidence
    if finding.kind == "dependency" and adv is not None and finding.package is not None:
        target = _upgrade_target(finding)
        action = (
            f"Upgrade {finding.package.name} to {target} or later."
            if target
            else f"No fixed version of {finding.package.name} is known; mitigate or replace it."
        )
        return "affected", "", action
    return "affected", "", f"Fix {finding.rule_id} at {finding.location.path}:{finding.location.line}."


def _acceptance(finding: Finding) -> str:
    """The action statement of an accepted risk: accepted, why, and what fixing it would take."""
    why = finding.justification or "risk accepted"
    if not why.lower().startswith("risk accepted"):
        why = f"risk accepted: {why}"
    text = why[0].upper() + why[1:] + "."
    if finding.kind == "dependency" and finding.package is not None:
        target = _upgrade_target(finding)
        if target:
            text += f" Upgrading {finding.package.name} to {target} or later fixes it."
    return text


def _upgrade_target(finding: Finding) -> str:
    if finding.advisory is None or finding.package is None:
        return ""
    from mamori.advisories.versions import compare

    eco = finding.package.ecosystem
    current = finding.package.version or finding.package.newest
    if not current:
        return finding.advisory.fixed[0] if finding.advisory.fixed else ""
    above = [v for v in finding.advisory.fixed if compare(eco, v, current) > 0]
    return above[0] if above else ""


def product_ref(finding: Finding, target_root: Path | None = None) -> str:
    """A finding's product: its package URL, else its file relative to the scanned folder."""
    if finding.package is not None and finding.package.purl:
        return finding.package.purl
    from mamori.output._paths import relative_path

    return relative_path(finding.location.path, target_root)


def _product(finding: Finding, target_root: Path | None) -> dict[str, Any]:
    return {"@id": product_ref(finding, target_root)}


def render_openvex(
    report: Report,
    *,
    target_root: Path | None = None,
    timestamp: datetime | None = None,
    author: str = "mamori",
) -> str:
    """The report as an OpenVEX document (JSON)."""
    when = (timestamp or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    statements: list[dict[str, Any]] = []
    for f in report.findings:
        status, justification, text = vex_status(f)
        vuln: dict[str, Any] = {"name": f.advisory.id if f.advisory is not None else f.rule_id}
        if f.advisory is not None and f.advisory.aliases:
            vuln["aliases"] = list(f.advisory.aliases)
        stmt: dict[str, Any] = {
            "vulnerability": vuln,
            "products": [_product(f, target_root)],
            "status": status,
        }
        if status == "not_affected":
            if justification:
                stmt["justification"] = justification
            stmt["impact_statement"] = text
        elif status == "affected":
            stmt["action_statement"] = text
        else:
            stmt["status_notes"] = text
        statements.append(stmt)
    digest = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()[:32]
    doc = {
        "@context": CONTEXT,
        "@id": f"https://openvex.dev/docs/mamori/{digest}",
        "author": author,
        "role": "Document Creator",
        "timestamp": when,
        "version": 1,
        "tooling": f"mamori {__version__}",
        "statements": statements,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
