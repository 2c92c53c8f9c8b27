"""CSAF 2.0 documents of a report: the VEX profile (``csaf_vex``).

One vulnerability per hole (advisory with its aliases, or code rule), products from the
findings' package URLs (and the scanned project itself for code findings). Each known_affected
product carries a remediation (action statement; ``no_fix_planned`` with the reason for an
accepted risk, which stays known_affected) and each known_not_affected one a flag or an
impact threat, as the profile's mandatory tests 6.1.27.9 and 6.1.27.10 require.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mamori import __version__
from mamori._text import count
from mamori.model import Finding, Report
from mamori.output.openvex import vex_status

_FLAG_LABELS = (
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
)
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _system(identifier: str) -> str:
    prefix = identifier.split("-", 1)[0].upper()
    return {
        "GHSA": "GitHub Security Advisory",
        "PYSEC": "PyPA Advisory Database",
        "RUSTSEC": "RustSec Advisory Database",
        "GO": "Go Vulnerability Database",
        "OSV": "OSV",
    }.get(prefix, "mamori" if "-" not in identifier or prefix.startswith("PY") else prefix)


def _remedy(f: Finding) -> str:
    """The remediation category: an accepted risk is ``no_fix_planned`` (CSAF's word for it)."""
    if f.status == "accepted":
        return "no_fix_planned"
    return "vendor_fix" if f.kind == "dependency" else "mitigation"


def render_csaf_vex(
    report: Report,
    *,
    target_root: Path | None = None,
    timestamp: datetime | None = None,
    publisher: str = "mamori user",
    namespace: str = "https://mamori.invalid",
) -> str:
    """The report as a CSAF 2.0 VEX document (JSON)."""
    when = (timestamp or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    project = PurePosixPath(report.target.replace("\\", "/")).name or "project"
    products: dict[str, dict[str, Any]] = {}

    def product_id(f: Finding) -> str:
        key = f.package.purl if f.package is not None else f"project:{project}"
        if key not in products:
            pid = f"CSAFPID-{len(products) + 1:04d}"
            entry: dict[str, Any] = {"product_id": pid}
            if f.package is not None:
                entry["name"] = f"{f.package.name} {f.package.version or f.package.range_spec}".strip()
                entry["product_identification_helper"] = {"purl": f.package.purl}
            else:
                entry["name"] = project
            products[key] = entry
        return str(products[key]["product_id"])

    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        groups[f.rule_id].append(f)

    vulnerabilities: list[dict[str, Any]] = []
    used_cves: set[str] = set()
    for rule_id, members in sorted(groups.items()):
        first = members[0]
        all_ids = sorted({i for f in members for i in f.all_ids})
        cve = next((i for i in all_ids if _CVE.match(i) and i not in used_cves), "")
        vuln: dict[str, Any] = {}
        if cve:
            vuln["cve"] = cve
            used_cves.add(cve)
        others = [i for i in all_ids if i != cve]
        if others or not cve:
            vuln["ids"] = [{"system_name": _system(i), "text": i} for i in (others or [rule_id])]
        vuln["title"] = first.title[:500] or rule_id
        notes_text = first.description or first.title or rule_id
        vuln["notes"] = [{"category": "description", "text": notes_text[:4000], "title": "Description"}]
        status: dict[str, list[str]] = defaultdict(list)
        flags: dict[str, list[str]] = defaultdict(list)
        threats: list[dict[str, Any]] = []
        remediations: list[dict[str, Any]] = []
        for f in members:
            pid = product_id(f)
            state, justification, text = vex_status(f)
            if state == "affected":
                if pid not in status["known_affected"]:
                    status["known_affected"].append(pid)
                    remediations.append(
                        {
                            "category": _remedy(f),
                            "details": text,
                            "product_ids": [pid],
                        }
                    )
            elif state == "fixed":
                if pid not in status["fixed"]:
                    status["fixed"].append(pid)
            elif pid not in status["known_not_affected"]:
                status["known_not_affected"].append(pid)
                if justification in _FLAG_LABELS:
                    flags[justification].append(pid)
                threats.append({"category": "impact", "details": text, "product_ids": [pid]})
        vuln["product_status"] = {k: v for k, v in status.items() if v}
        if flags:
            vuln["flags"] = [{"label": label, "product_ids": pids} for label, pids in sorted(flags.items())]
        if threats:
            vuln["threats"] = threats
        if remediations:
            vuln["remediations"] = remediations
        vulnerabilities.append(vuln)

    digest = hashlib.sha256(json.dumps(vulnerabilities, sort_keys=True).encode()).hexdigest()[:12]
    doc = {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "lang": "en",
            "title": f"mamori VEX for {project}",
            "publisher": {"category": "other", "name": publisher, "namespace": namespace},
            "notes": [
                {
                    "category": "summary",
                    "title": "Summary",
                    "text": f"Exploitability of {count(len(report.findings), 'finding')} in {project}, as decided by mamori.",
                }
            ],
            "tracking": {
                "id": f"mamori-vex-{digest}",
                "status": "final",
                "version": "1",
                "initial_release_date": when,
                "current_release_date": when,
                "revision_history": [{"date": when, "number": "1", "summary": "Initial version."}],
                "generator": {"date": when, "engine": {"name": "mamori", "version": __version__}},
            },
        },
        "product_tree": {"full_product_names": list(products.values())},
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
