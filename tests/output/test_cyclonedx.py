"""CycloneDX 1.6 scan reports: valid per the library's strict JSON validator, refs that resolve."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from mamori.inventory.interface import Inventory
from mamori.model import Report
from mamori.output.cyclonedx import render_cyclonedx

FIXED_TIME = datetime(2024, 10, 10, 12, 0, tzinfo=UTC)
FIXED_SERIAL = UUID("12345678-1234-5678-1234-567812345678")


def _render(report: Report, inventory: Inventory | None = None) -> str:
    return render_cyclonedx(
        report,
        components=inventory.components if inventory else (),
        project="shop",
        timestamp=FIXED_TIME,
        serial=FIXED_SERIAL,
    )


def _valid(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)
    return json.loads(text)


def test_report_with_inventory_is_valid(full_report: Report, inventory: Inventory) -> None:
    doc = _valid(_render(full_report, inventory))
    assert doc["specVersion"] == "1.6"
    assert doc["serialNumber"] == f"urn:uuid:{FIXED_SERIAL}"
    assert doc["metadata"]["timestamp"].startswith("2024-10-10T12:00:00")


def test_validator_rejects_a_broken_document(full_report: Report) -> None:
    doc = json.loads(_render(full_report))
    doc["vulnerabilities"][0]["cwes"] = ["CWE-89"]
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc)) is not None


def test_every_vulnerability_affects_a_known_component(full_report: Report, inventory: Inventory) -> None:
    doc = _valid(_render(full_report, inventory))
    refs = {c["bom-ref"] for c in doc["components"]} | {doc["metadata"]["component"]["bom-ref"]}
    assert len(doc["vulnerabilities"]) == len(full_report.findings)
    for vuln in doc["vulnerabilities"]:
        assert vuln["affects"] and all(a["ref"] in refs for a in vuln["affects"])


def test_findings_without_inventory_add_their_packages(full_report: Report) -> None:
    doc = _valid(_render(full_report))
    purls = sorted(c["purl"] for c in doc["components"])
    assert purls == ["pkg:pypi/django@3.1.5", "pkg:pypi/jinja2@2.10"]


def test_vulnerability_fields(full_report: Report) -> None:
    doc = _valid(_render(full_report))
    by_id = {v["id"]: v for v in doc["vulnerabilities"]}
    redos = by_id["PYSEC-2021-66"]
    assert redos["affects"] == [{"ref": "pkg:pypi/jinja2@2.10"}]
    assert redos["cwes"] == [400]
    assert redos["ratings"][0]["severity"] == "medium"
    assert redos["ratings"][0]["method"] == "CVSSv31"
    assert redos["recommendation"].startswith("Upgrade jinja2 to 2.11.3")
    assert {r["id"] for r in redos["references"]} >= {"CVE-2020-28493", "GHSA-g3rq-g295-4j3m"}
    assert redos["source"]["url"] == "https://osv.dev/vulnerability/PYSEC-2021-66"
    assert "analysis" not in redos
    django = by_id["PYSEC-2021-98"]
    assert django["analysis"]["state"] == "not_affected"
    assert "admindocs" in django["analysis"]["detail"]
    assert django["recommendation"].startswith("Upgrade django to 3.1.12")
    sqli = by_id["MAM-PY-SQLI"]
    assert sqli["affects"] == [{"ref": doc["metadata"]["component"]["bom-ref"]}]
    assert sqli["cwes"] == [89] and sqli["ratings"][0]["severity"] == "critical"
    props = {(p["name"], p["value"]) for p in sqli["properties"]}
    assert ("mamori:location", "app/views.py:42") in props


def test_output_is_deterministic_given_time_and_serial(full_report: Report, inventory: Inventory) -> None:
    assert _render(full_report, inventory) == _render(full_report, inventory)
    reordered = Inventory(components=tuple(reversed(inventory.components)))
    assert _render(full_report, reordered) == _render(full_report, inventory)


def test_fixed_status_is_resolved(full_report: Report) -> None:
    from dataclasses import replace

    findings = tuple(
        replace(f, status="fixed") if f.rule_id == "MAM-PY-SQLI" else f for f in full_report.findings
    )
    doc = _valid(_render(replace(full_report, findings=findings)))
    sqli = next(v for v in doc["vulnerabilities"] if v["id"] == "MAM-PY-SQLI")
    assert sqli["analysis"]["state"] == "resolved"
