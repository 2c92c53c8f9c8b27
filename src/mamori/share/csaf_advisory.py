"""CSAF 2.0 documents of the security-advisory profile (``csaf_security_advisory``).

A vendor publishing a fix wants an advisory, not a VEX: the same products and vulnerabilities
as :func:`mamori.output.csaf.render_csaf_vex` renders, with the advisory profile's category and
the document references that profile requires (mandatory test 6.1.27.2). Built on the VEX
rendering so that both profiles describe a report identically.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from mamori.model import Report
from mamori.output.csaf import render_csaf_vex


def csaf_advisory(
    report: Report,
    *,
    timestamp: datetime | None = None,
    publisher: str = "mamori user",
    namespace: str = "https://mamori.invalid",
) -> dict[str, Any]:
    """The report as a CSAF 2.0 security advisory (a JSON-ready dict)."""
    doc: dict[str, Any] = json.loads(
        render_csaf_vex(report, timestamp=timestamp, publisher=publisher, namespace=namespace)
    )
    document = doc["document"]
    document["category"] = "csaf_security_advisory"
    document["title"] = document["title"].replace("mamori VEX for", "mamori security advisory for")
    tracking = document["tracking"]
    tracking["id"] = tracking["id"].replace("mamori-vex-", "mamori-advisory-")
    refs: list[dict[str, str]] = [
        {
            "category": "self",
            "summary": "This advisory.",
            "url": f"{namespace.rstrip('/')}/advisories/{tracking['id']}.json",
        }
    ]
    seen: set[str] = set()
    for vuln in doc.get("vulnerabilities", []):
        for ident in [vuln.get("cve", "")] + [i["text"] for i in vuln.get("ids", [])]:
            if ident and ident not in seen:
                seen.add(ident)
                refs.append(
                    {
                        "category": "external",
                        "summary": ident,
                        "url": f"https://osv.dev/vulnerability/{ident}",
                    }
                )
    document["references"] = refs
    return doc


def render_csaf_advisory(report: Report, *, target_root: Path | None = None) -> str:
    """The report as a CSAF 2.0 security advisory (JSON text); a renderer for ``--format csaf-advisory``."""
    return json.dumps(csaf_advisory(report), indent=2, ensure_ascii=False) + "\n"
