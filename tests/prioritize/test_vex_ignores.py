"""VEX statements in, VEX documents out, and ignores with a reason and an expiry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mamori.errors import InputError
from mamori.model import AdvisoryRef, Finding, Location, Package, Report
from mamori.output.csaf import render_csaf_vex
from mamori.output.openvex import render_openvex
from mamori.prioritize import apply_ignores, apply_vex, parse_ignores, read_vex


def _dep(name: str = "jinja2", version: str = "2.10", functions: tuple[str, ...] = ()) -> Finding:
    return Finding(
        kind="dependency",
        rule_id="GHSA-462w-v97r-4m45",
        title="Jinja2 sandbox escape",
        severity="high",
        location=Location("requirements.txt", 4),
        package=Package("PyPI", name, version, f"pkg:pypi/{name}@{version}"),
        advisory=AdvisoryRef(
            id="GHSA-462w-v97r-4m45",
            aliases=("CVE-2019-10906", "PYSEC-2019-217"),
            fixed=("2.10.1",),
            functions=functions,
        ),
    )


def _write(tmp_path: Path, name: str, doc: object) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_openvex_not_affected_by_alias_closes_the_finding(tmp_path: Path) -> None:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "vendor",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2019-10906"},
                "products": [{"@id": "pkg:pypi/jinja2"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }
    (out,) = apply_vex([_dep()], read_vex(_write(tmp_path, "v.openvex.json", doc)))
    assert out.status == "not_affected"
    assert "vulnerable_code_not_in_execute_path" in out.justification
    # a statement about another product leaves it open
    doc["statements"][0]["products"] = [{"@id": "pkg:pypi/flask"}]  # type: ignore[index]
    (still,) = apply_vex([_dep()], read_vex(_write(tmp_path, "w.json", doc)))
    assert still.status == "open"


def test_cyclonedx_vex_resolved_is_fixed(tmp_path: Path) -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"bom-ref": "j", "name": "jinja2", "purl": "pkg:pypi/jinja2@2.10"}],
        "vulnerabilities": [
            {
                "id": "PYSEC-2019-217",
                "analysis": {"state": "resolved", "detail": "backported"},
                "affects": [{"ref": "j"}],
            }
        ],
    }
    (out,) = apply_vex([_dep()], read_vex(_write(tmp_path, "bom.json", doc)))
    assert out.status == "fixed"
    (other_version,) = apply_vex([_dep(version="2.9")], read_vex(_write(tmp_path, "bom2.json", doc)))
    assert other_version.status == "open"


def test_csaf_vex_known_not_affected(tmp_path: Path) -> None:
    doc = {
        "document": {"category": "csaf_vex", "csaf_version": "2.0"},
        "product_tree": {
            "full_product_names": [
                {
                    "name": "jinja2",
                    "product_id": "P1",
                    "product_identification_helper": {"purl": "pkg:pypi/jinja2@2.10"},
                }
            ]
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2019-10906",
                "product_status": {"known_not_affected": ["P1"]},
                "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["P1"]}],
            }
        ],
    }
    (out,) = apply_vex([_dep()], read_vex(_write(tmp_path, "c.json", doc)))
    assert out.status == "not_affected"
    assert "vulnerable_code_not_present" in out.justification


def test_unknown_and_broken_vex_documents_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_vex(_write(tmp_path, "x.json", {"hello": 1}))
    bad = tmp_path / "bad.json"
    bad.write_text('{\n "a": \n')
    with pytest.raises(InputError) as info:
        read_vex(bad)
    assert info.value.line == 3


def test_ignores_are_alias_aware_and_expire() -> None:
    ignores = parse_ignores(
        {"ignore": [{"id": "CVE-2019-10906", "reason": "sandbox unused", "expires": dt.date(2027, 1, 1)}]}
    )
    today = dt.date(2026, 6, 1)
    (out,) = apply_ignores([_dep()], ignores, today=today)
    assert out.status == "accepted"
    assert "sandbox unused" in out.justification
    warnings: list[str] = []
    (back,) = apply_ignores([_dep()], ignores, today=dt.date(2027, 2, 1), warn=warnings.append)
    assert back.status == "open"
    assert warnings and "expired" in warnings[0]


def test_ignore_needs_reason_and_valid_date() -> None:
    with pytest.raises(InputError):
        parse_ignores({"ignore": [{"id": "CVE-1"}]})
    with pytest.raises(InputError):
        parse_ignores({"ignore": [{"id": "CVE-1", "reason": "r", "expires": "soon"}]})


def test_openvex_output_round_trips_through_the_reader(tmp_path: Path) -> None:
    closed = _dep(name="flask", version="0.12")
    closed = (
        Finding(**{**closed.__dict__, "status": "not_affected", "justification": "ignored: not used"})
        if False
        else closed
    )
    from dataclasses import replace

    closed = replace(
        _dep(name="flask", version="0.12"), status="not_affected", justification="ignored: not deployed"
    )
    unreachable = replace(
        _dep(name="pyyaml", version="5.3", functions=("yaml.load",)),
        reachability="unreachable",
        reachability_evidence="pyyaml is imported but yaml.load is not referenced",
    )
    report = Report(findings=(_dep(), closed, unreachable), target="app")
    doc = json.loads(render_openvex(report))
    assert doc["@context"].startswith("https://openvex.dev/ns/")
    statuses = {s["products"][0]["@id"]: s for s in doc["statements"]}
    assert statuses["pkg:pypi/jinja2@2.10"]["status"] == "affected"
    assert "2.10.1" in statuses["pkg:pypi/jinja2@2.10"]["action_statement"]
    assert statuses["pkg:pypi/pyyaml@5.3"]["justification"] == "vulnerable_code_not_in_execute_path"
    back = apply_vex([_dep(), closed, unreachable], read_vex(_write(tmp_path, "o.json", doc)))
    assert [f.status for f in back] == ["open", "not_affected", "not_affected"]


def test_csaf_vex_output_meets_profile_rules(tmp_path: Path) -> None:
    from dataclasses import replace

    closed = replace(
        _dep(name="flask", version="0.12"), status="not_affected", justification="ignored: not deployed"
    )
    report = Report(findings=(_dep(), closed), target="app")
    doc = json.loads(render_csaf_vex(report))
    assert doc["document"]["category"] == "csaf_vex"
    assert doc["document"]["csaf_version"] == "2.0"
    ids = {p["product_id"] for p in doc["product_tree"]["full_product_names"]}
    cves = [v.get("cve") for v in doc["vulnerabilities"] if v.get("cve")]
    assert len(cves) == len(set(cves))  # 6.1.23: a CVE once
    for v in doc["vulnerabilities"]:
        status = v["product_status"]
        for pid in [p for group in status.values() for p in group]:
            assert pid in ids  # 6.1.1: every product id defined
        remediated = {p for r in v.get("remediations", []) for p in r["product_ids"]}
        assert set(status.get("known_affected", [])) <= remediated  # 6.1.27.10
        impact = {p for t in v.get("threats", []) for p in t["product_ids"]}
        flagged = {p for f in v.get("flags", []) for p in f["product_ids"]}
        assert set(status.get("known_not_affected", [])) <= impact | flagged  # 6.1.27.9
    # and mamori reads its own CSAF back
    back = apply_vex([_dep(), closed], read_vex(_write(tmp_path, "c.json", doc)))
    assert back[0].status == "open"
