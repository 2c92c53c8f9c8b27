"""CSAF 2.0 output of both profiles passes the official schema and the offline mandatory tests;
the checker agrees with the OASIS TC's own failing and valid examples; broken documents fail."""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from typing import Any

import pytest
from tests.share.conftest import FIXTURES

from mamori.output.csaf import render_csaf_vex
from mamori.output.jsonout import load_report
from mamori.share import csaf_check
from mamori.share.csaf_advisory import csaf_advisory
from mamori.share.csaf_check import check_csaf, official_schema_available, schema_errors

REPORT = FIXTURES / "report_jinja2_flask.json"
IMPLEMENTED = {"1", "2", "6", "14", "16", "21", "22", "23"} | {f"27.{i}" for i in range(1, 12)}
_EXAMPLE = re.compile(r"6-1-(\d\d)(?:-(\d\d))?-(\d\d)\.json$")


def _oasis_examples() -> list[tuple[str, str]]:
    """(test, file name) of the OASIS TC's examples of the mandatory tests implemented, as the
    ``csaf`` package ships them."""
    root = files("csaf") / "csaf" / "v20" / "data" / "mandatory"
    out = []
    for f in root.iterdir():
        m = _EXAMPLE.search(f.name)
        if m:
            test = str(int(m.group(1))) + (f".{int(m.group(2))}" if m.group(2) else "")
            if test in IMPLEMENTED:
                out.append(("6.1." + test, f.name))
    return sorted(out)


def _tests(problems: list[str]) -> set[str]:
    return {p.split(" ", 1)[0] for p in problems}


def test_the_official_schema_is_there() -> None:
    assert official_schema_available(), "pip install csaf: it ships the OASIS CSAF 2.0 JSON schema"


def test_both_profiles_of_a_real_report_pass() -> None:
    report = load_report(REPORT)
    vex = json.loads(render_csaf_vex(report))
    advisory = csaf_advisory(report)
    assert schema_errors(vex) == [] and schema_errors(advisory) == []
    assert check_csaf(vex) == []
    assert check_csaf(advisory) == []
    assert advisory["document"]["category"] == "csaf_security_advisory"
    assert {r["summary"] for r in advisory["document"]["references"]} >= {
        "CVE-2019-10906",
        "CVE-2018-1000656",
    }


@pytest.mark.parametrize(("test", "name"), _oasis_examples())
def test_agrees_with_the_oasis_examples(test: str, name: str) -> None:
    doc = json.loads((files("csaf") / "csaf" / "v20" / "data" / "mandatory" / name).read_text("utf-8"))
    failing = "failing example" in doc["document"]["title"]
    problems = check_csaf(doc)
    assert [p for p in problems if p.startswith("schema")] == []  # the examples are schema-valid
    assert (test in _tests(problems)) == failing, problems


def test_the_examples_cover_every_implemented_test() -> None:
    covered = {t for t, _ in _oasis_examples()}
    assert covered == {"6.1." + t for t in IMPLEMENTED}


def test_schema_names_the_path_of_what_is_wrong() -> None:
    advisory = csaf_advisory(load_report(REPORT))
    broken = copy.deepcopy(advisory)
    broken["document"]["csaf_version"] = "2.1"
    broken["document"]["tracking"]["current_release_date"] = "yesterday"
    broken["document"]["publisher"]["category"] = "hacker"
    broken["vulnerabilities"][0]["cve"] = "CVE-20-1"
    problems = schema_errors(broken)
    paths = {p.split(" ")[1].rstrip(":") for p in problems}
    assert {
        "/document/csaf_version",
        "/document/tracking/current_release_date",
        "/document/publisher/category",
        "/vulnerabilities/0/cve",
    } <= paths


def test_broken_documents_fail_the_named_tests() -> None:
    advisory = csaf_advisory(load_report(REPORT))
    broken = copy.deepcopy(advisory)
    broken["document"]["tracking"]["version"] = "7"
    vuln = broken["vulnerabilities"][0]
    vuln["product_status"]["known_not_affected"] = list(vuln["product_status"]["known_affected"])
    vuln["product_status"]["known_affected"].append("CSAFPID-9999")
    del vuln["notes"]
    broken["vulnerabilities"].append(copy.deepcopy(vuln))
    assert {"6.1.16", "6.1.6", "6.1.1", "6.1.23", "6.1.27.5"} <= _tests(check_csaf(broken))
    no_tree: dict[str, Any] = copy.deepcopy(advisory)
    del no_tree["product_tree"]
    assert "6.1.27.4" in _tests(check_csaf(no_tree))
    informational = copy.deepcopy(advisory)
    informational["document"]["category"] = "csaf_informational_advisory"
    del informational["document"]["references"]
    assert {"6.1.27.2", "6.1.27.3"} <= _tests(check_csaf(informational))
    assert check_csaf([]) and check_csaf({"document": {}})


def test_without_the_schema_package_the_structure_is_checked_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csaf_check, "_validator", lambda: None)
    advisory = csaf_advisory(load_report(REPORT))
    assert check_csaf(advisory) == []
    del advisory["document"]["publisher"]["namespace"]
    advisory["document"]["tracking"]["status"] = "done"
    assert {
        "schema /document/publisher/namespace: required",
        "schema /document/tracking/status: draft, final or interim",
    } <= set(check_csaf(advisory))
