"""The scan pipeline's own rules: alias merging, severity, fail-on, baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.advisories.interface import Advisory, Match
from mamori.cli import fails
from mamori.errors import InputError
from mamori.inventory.interface import Component
from mamori.model import Finding, Location, Priority, Report
from mamori.scan import _baseline_ids, _severity, cvss_severity, findings_from_matches

JINJA = Component("PyPI", "jinja2", "2.10", Location("requirements.txt", 3), purl="pkg:pypi/jinja2@2.10")


def _adv(id_: str, *aliases: str, **kw: object) -> Advisory:
    return Advisory(id=id_, aliases=aliases, **kw)  # type: ignore[arg-type]


def test_aliases_merge_into_one_finding() -> None:
    matches = [
        Match(JINJA, _adv("PYSEC-2019-217", "CVE-2019-10906", "GHSA-462w-v97r-4m45"), fixed=("2.10.1",)),
        Match(JINJA, _adv("GHSA-462w-v97r-4m45", "CVE-2019-10906"), fixed=("2.10.1",)),
        Match(JINJA, _adv("PYSEC-2014-8", "CVE-2014-1402"), fixed=("2.7.2",)),
    ]
    findings = findings_from_matches(matches)
    assert len(findings) == 2
    merged = next(f for f in findings if "CVE-2019-10906" in f.all_ids)
    assert merged.rule_id == "GHSA-462w-v97r-4m45"  # GHSA preferred as the primary id
    assert merged.advisory is not None
    assert set(merged.advisory.aliases) == {"CVE-2019-10906", "PYSEC-2019-217"}
    assert merged.advisory.fixed == ("2.10.1",)


def test_transitive_alias_chain_merges() -> None:
    # A names B, C names B: all three are one hole even though A and C never name each other.
    matches = [
        Match(JINJA, _adv("PYSEC-1", "CVE-1")),
        Match(JINJA, _adv("GHSA-x", "CVE-1")),
        Match(JINJA, _adv("OSV-3", "GHSA-x")),
    ]
    assert len(findings_from_matches(matches)) == 1


def test_same_advisory_on_two_components_stays_two_findings() -> None:
    other = Component("PyPI", "jinja2", "2.10", Location("sub/requirements.txt", 1))
    adv = _adv("GHSA-a", "CVE-2")
    findings = findings_from_matches([Match(JINJA, adv), Match(other, adv)])
    assert len({f.id for f in findings}) == 2


def test_fixed_versions_sorted_by_ecosystem_order() -> None:
    matches = [Match(JINJA, _adv("GHSA-a"), fixed=("2.10.1", "2.9.10", "2.11.0rc1"))]
    (f,) = findings_from_matches(matches)
    assert f.advisory is not None
    assert f.advisory.fixed == ("2.9.10", "2.10.1", "2.11.0rc1")


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N", "medium"),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "low"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "critical"),
        ("not a vector", None),
    ],
)
def test_cvss_severity(vector: str, expected: str | None) -> None:
    assert cvss_severity("CVSS_V3", vector) == expected


def test_severity_unknown_without_data_and_database_word_used() -> None:
    assert _severity(_adv("X")) == "unknown"
    assert _severity(_adv("X", database_severity="MODERATE")) == "medium"
    strong = _adv("X", severity=(("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),))
    assert _severity(strong) == "critical"


def _finding(severity: str, decision: str | None = None, status: str = "open") -> Finding:
    return Finding(
        kind="code",
        rule_id="R",
        title="t",
        severity=severity,  # type: ignore[arg-type]
        location=Location("a.py", 1),
        priority=Priority(decision, 1.0) if decision else None,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        fingerprint_basis=severity + (decision or "") + status,
    )


def test_fail_on_levels() -> None:
    report = Report(findings=(_finding("medium"), _finding("unknown")))
    assert fails(report, "any")
    assert fails(report, "medium")
    assert not fails(report, "high")
    assert not fails(Report(findings=(_finding("unknown"),)), "low")  # unknown counts only under any
    assert fails(Report(findings=(_finding("low", "attend"),)), "attend")
    assert not fails(Report(findings=(_finding("low", "track"),)), "track*")
    assert not fails(Report(findings=(_finding("critical", status="not_affected"),)), "any")
    with pytest.raises(InputError):
        fails(report, "severe")


def test_baseline_reads_ids_and_rejects_garbage(tmp_path: Path) -> None:
    good = tmp_path / "b.json"
    good.write_text(json.dumps({"findings": [{"id": "abc"}, {"id": "def"}]}))
    assert _baseline_ids(good) == {"abc", "def"}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        _baseline_ids(bad)
