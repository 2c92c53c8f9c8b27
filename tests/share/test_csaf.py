"""CSAF 2.0 output of both profiles passes the offline checks; broken documents do not."""

from __future__ import annotations

import copy
import json

from tests.share.conftest import FIXTURES

from mamori.output.csaf import render_csaf_vex
from mamori.output.jsonout import load_report
from mamori.share.csaf_advisory import csaf_advisory
from mamori.share.csaf_check import check_csaf

REPORT = FIXTURES / "report_jinja2_flask.json"


def test_both_profiles_of_a_real_report_pass() -> None:
    report = load_report(REPORT)
    vex = json.loads(render_csaf_vex(report))
    advisory = csaf_advisory(report)
    assert check_csaf(vex) == []
    assert check_csaf(advisory) == []
    assert advisory["document"]["category"] == "csaf_security_advisory"
    assert {r["summary"] for r in advisory["document"]["references"]} >= {
        "CVE-2019-10906",
        "CVE-2018-1000656",
    }


def test_broken_documents_fail_the_named_tests() -> None:
    advisory = csaf_advisory(load_report(REPORT))
    broken = copy.deepcopy(advisory)
    del broken["document"]["references"]
    broken["document"]["tracking"]["version"] = "7"
    vuln = broken["vulnerabilities"][0]
    vuln["product_status"]["known_not_affected"] = list(vuln["product_status"]["known_affected"])
    vuln["product_status"]["known_affected"].append("CSAFPID-9999")
    broken["vulnerabilities"].append(copy.deepcopy(vuln))
    tests = {p.split(" ", 1)[0] for p in check_csaf(broken)}
    assert {"6.1.27.2", "6.1.16", "6.1.6", "6.1.1", "6.1.23"} <= tests
    assert check_csaf([]) and check_csaf({"document": {}})
