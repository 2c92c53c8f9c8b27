"""VEX out of ``mamori scan`` through the real CLI: an accepted risk is affected, never not_affected.

A project pins a vulnerable jinja2 (the real PyPA records), accepts one of its holes with an
``[[ignore]]`` and has a code finding of its own. Each VEX format must state the accepted hole
``affected`` with the acceptance as its action, name the finding's own advisory id with its
aliases, and identify products by package URL or repository-relative path: the scanned folder
is given as an absolute path and must not appear in any document.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import mamori

IGNORE = (
    '[[ignore]]\nid = "CVE-2019-10906"\nreason = "templates are ours; the sandbox is not used"\n'
    "expires = 2099-06-30\n"
)


@pytest.fixture
def project(tmp_path: Path, shared_data: Path) -> Path:
    folder = tmp_path / "osv"
    shutil.copytree(shared_data / "pypa-advisory-db/vulns/jinja2", folder)
    assert mamori("db", "import", folder).code == 0
    root = (tmp_path / "my project").resolve()
    (root / "src").mkdir(parents=True)
    (root / "requirements.txt").write_text("jinja2==2.10\n", encoding="utf-8")
    (root / "src" / "app.py").write_text(
        "import hashlib\n\n\ndef digest(password):\n    return hashlib.md5(password.encode()).hexdigest()\n",
        encoding="utf-8",
    )
    (root / "mamori.toml").write_text(IGNORE, encoding="utf-8")
    return root


def _scan(project: Path, fmt: str) -> tuple[int, str]:
    run = mamori("scan", project, "--offline", "-f", fmt)
    assert run.code == 1, run.err  # the other jinja2 hole and the code finding stay open
    assert str(project) not in run.out and str(project.parent) not in run.out
    return run.code, run.out


def _statement_for(doc: dict[str, Any], advisory: str) -> dict[str, Any]:
    (stmt,) = [
        s
        for s in doc["statements"]
        if advisory == s["vulnerability"]["name"] or advisory in s["vulnerability"].get("aliases", [])
    ]
    return stmt


def _check_openvex(doc: dict[str, Any]) -> None:
    """The OpenVEX v0.2.0 specification's rules for a document and its statements."""
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    for key in ("@id", "author", "timestamp", "version", "statements"):
        assert doc[key]
    for s in doc["statements"]:
        assert s["vulnerability"]["name"]
        assert s["products"] and all(p["@id"] for p in s["products"])
        assert s["status"] in ("not_affected", "affected", "fixed", "under_investigation")
        if s["status"] == "not_affected":
            assert s.get("justification") or s.get("impact_statement")
        if s["status"] == "affected":
            assert s.get("action_statement")


def test_openvex_states_an_accepted_risk_affected_with_its_action(project: Path) -> None:
    _code, out = _scan(project, "openvex")
    doc = json.loads(out)
    _check_openvex(doc)
    accepted = _statement_for(doc, "CVE-2019-10906")
    assert accepted["status"] == "affected"
    assert "justification" not in accepted
    assert "risk accepted" in accepted["action_statement"].lower()
    assert "templates are ours" in accepted["action_statement"]
    assert "2.10.1" in accepted["action_statement"]  # what fixing it would take
    names = {accepted["vulnerability"]["name"], *accepted["vulnerability"]["aliases"]}
    assert {"PYSEC-2019-217", "CVE-2019-10906"} <= names
    assert not accepted["vulnerability"]["name"].startswith("CVE-")  # the advisory's own id
    assert accepted["products"] == [{"@id": "pkg:pypi/jinja2@2.10"}]
    assert all(s["status"] != "not_affected" for s in doc["statements"])
    code = [s for s in doc["statements"] if s["products"][0]["@id"] == "src/app.py"]
    assert code and code[0]["status"] == "affected"


def test_csaf_vex_keeps_an_accepted_risk_known_affected(project: Path) -> None:
    from mamori.share.csaf_check import check_csaf

    _code, out = _scan(project, "csaf")
    doc = json.loads(out)
    assert check_csaf(doc) == []
    (vuln,) = [v for v in doc["vulnerabilities"] if v.get("cve") == "CVE-2019-10906"]
    ids = {i["text"] for i in vuln.get("ids", [])}
    assert "PYSEC-2019-217" in ids
    assert "known_not_affected" not in vuln["product_status"]
    (pid,) = vuln["product_status"]["known_affected"]
    (remedy,) = [r for r in vuln["remediations"] if pid in r["product_ids"]]
    assert remedy["category"] == "no_fix_planned" and "templates are ours" in remedy["details"]
    products = {p["product_id"]: p for p in doc["product_tree"]["full_product_names"]}
    assert products[pid]["product_identification_helper"]["purl"] == "pkg:pypi/jinja2@2.10"


def test_cyclonedx_states_an_accepted_risk_exploitable_will_not_fix(project: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    _code, out = _scan(project, "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out) is None
    doc = json.loads(out)
    (vuln,) = [
        v
        for v in doc["vulnerabilities"]
        if v["id"] == "CVE-2019-10906" or "CVE-2019-10906" in {r["id"] for r in v.get("references", [])}
    ]
    assert vuln["analysis"]["state"] == "exploitable"
    assert vuln["analysis"]["response"] == ["will_not_fix"]
    assert "templates are ours" in vuln["analysis"]["detail"]


def test_json_and_table_say_accepted_and_fail_on_ignores_it(project: Path) -> None:
    run = mamori("scan", project, "--offline", "--no-code", "-f", "json")
    findings = run.json()["findings"]
    accepted = [f for f in findings if "CVE-2019-10906" in f["advisory"]["aliases"] + [f["advisory"]["id"]]]
    assert [f["status"] for f in accepted] == ["accepted"]
    assert "templates are ours" in accepted[0]["justification"]
    table = mamori("scan", project, "--offline", "--no-code")
    assert "1 accepted" in table.out
    (project / "requirements.txt").write_text("jinja2==2.11.0\n", encoding="utf-8")
    # 2.11.0 still has the ReDoS hole but not the accepted one; with only accepted ones left → 0
    (project / "mamori.toml").write_text(
        IGNORE + IGNORE.replace("CVE-2019-10906", "CVE-2020-28493"), encoding="utf-8"
    )
    assert mamori("scan", project, "--offline", "--no-code").code == 0
