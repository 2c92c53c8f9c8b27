"""The JSON report: contract schema, round trip, golden file, and errors for malformed input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.errors import ParseError
from mamori.model import (
    AdvisoryRef,
    DatabaseInfo,
    Finding,
    Location,
    Package,
    Priority,
    Report,
    ScanError,
    TraceStep,
)
from mamori.output.jsonout import (
    SCHEMA_PATH,
    load_report,
    render_json,
    report_from_dict,
    report_from_json,
    report_to_dict,
)

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_full_report_matches_contract_schema(full_report: Report) -> None:
    doc = report_to_dict(full_report)
    VALIDATOR.validate(doc)
    assert doc["schema"] == "mamori.report/1"
    assert list(doc)[:5] == ["schema", "tool", "database", "findings", "errors"]


def test_dependency_and_code_findings_carry_their_own_keys(full_report: Report) -> None:
    doc = report_to_dict(full_report)
    for raw, finding in zip(doc["findings"], full_report.findings, strict=True):
        assert raw["id"] == finding.id
        if finding.kind == "dependency":
            assert {"package", "advisory"} <= raw.keys() and "trace" not in raw
            assert raw["advisory"]["fixed"] == list(finding.advisory.fixed)  # type: ignore[union-attr]
        else:
            assert "package" not in raw and "advisory" not in raw
            assert len(raw["trace"]) == len(finding.trace)
        assert ("priority" in raw) == (finding.priority is not None)


def test_schema_rejects_a_code_finding_with_a_package(full_report: Report) -> None:
    doc = report_to_dict(full_report)
    code = next(f for f in doc["findings"] if f["kind"] == "code")
    code["package"] = {"ecosystem": "PyPI", "name": "x", "version": "1", "purl": "pkg:pypi/x@1"}
    assert not VALIDATOR.is_valid(doc)


def test_schema_rejects_upper_case_severity(full_report: Report) -> None:
    doc = report_to_dict(full_report)
    doc["findings"][0]["severity"] = "HIGH"
    assert not VALIDATOR.is_valid(doc)


def test_round_trip_keeps_every_field_and_id(full_report: Report) -> None:
    back = report_from_dict(json.loads(render_json(full_report)))
    assert back == full_report
    assert [f.id for f in back.findings] == [f.id for f in full_report.findings]


def test_golden_json(full_report: Report, golden: Callable[[str, str], None]) -> None:
    golden("report.json", render_json(full_report))


def test_load_report_from_file(tmp_path: Path, full_report: Report) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(render_json(full_report), encoding="utf-8")
    assert load_report(path) == full_report


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "schema": "mamori.report/1",\n  "findings": [,]\n}\n', encoding="utf-8")
    with pytest.raises(ParseError) as err:
        load_report(path)
    assert err.value.path == str(path)
    assert err.value.line == 3


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        load_report(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(schema="mamori.report/2"), "schema"),
        (lambda d: d["findings"][0].update(severity="severe"), "findings[0].severity"),
        (lambda d: d["findings"][0]["location"].update(line="12"), "findings[0].location.line"),
        (lambda d: d["findings"][0].pop("rule_id"), "findings[0]"),
        (lambda d: d["findings"][1].update(cwe="CWE-89"), "findings[1].cwe"),
        (lambda d: d["errors"].append({"path": "x", "line": -1, "message": "m"}), "errors[2].line"),
        (lambda d: d.update(findings={}), "findings"),
    ],
)
def test_malformed_values_name_their_json_path(full_report: Report, mutate: object, where: str) -> None:
    doc = report_to_dict(full_report)
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(ParseError) as err:
        report_from_dict(doc, source="baseline.json")
    assert err.value.path == "baseline.json"
    assert str(err.value).startswith(f"baseline.json: {where}")


def test_not_an_object() -> None:
    with pytest.raises(ParseError):
        report_from_json("[1, 2]")


# ---- property: any report round-trips and validates --------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=12)
_ids = st.from_regex(r"[A-Z]{2,5}-[0-9]{1,5}", fullmatch=True)
_sev = st.sampled_from(["critical", "high", "medium", "low", "info", "unknown"])
_loc = st.builds(Location, _text, st.integers(0, 10_000), st.integers(0, 200))
_prio = st.none() | st.builds(
    Priority,
    st.sampled_from(["act", "attend", "track*", "track"]),
    st.floats(0, 1, allow_nan=False),
    st.tuples(_text),
)
_cwe = st.lists(st.integers(1, 2000).map(lambda n: f"CWE-{n}"), max_size=3).map(tuple)
_status = st.sampled_from(["open", "not_affected", "fixed"])

_dep = st.builds(
    Finding,
    kind=st.just("dependency"),
    rule_id=_ids,
    title=_text,
    severity=_sev,
    location=_loc,
    cwe=_cwe,
    package=st.builds(Package, st.sampled_from(["PyPI", "npm", "Go"]), _text.filter(bool), _text, _text),
    advisory=st.builds(AdvisoryRef, _ids, st.lists(_ids, max_size=3).map(tuple), st.lists(_text).map(tuple)),
    priority=_prio,
    status=_status,
    justification=_text,
)
_code = st.builds(
    Finding,
    kind=st.just("code"),
    rule_id=_ids,
    title=_text,
    severity=_sev,
    location=_loc,
    cwe=_cwe,
    trace=st.lists(
        st.builds(TraceStep, _text, st.integers(0, 999), _text, st.integers(0, 99)), max_size=3
    ).map(tuple),
    priority=_prio,
    status=_status,
    justification=_text,
    confidence=st.sampled_from(["high", "medium", "low"]),
    fingerprint_basis=_text,
)
_reports = st.builds(
    Report,
    findings=st.lists(_dep | _code, max_size=4).map(tuple),
    errors=st.lists(st.builds(ScanError, _text, _text.filter(bool), st.integers(0, 99)), max_size=2).map(
        tuple
    ),
    database=st.builds(DatabaseInfo, _text, st.lists(_text, max_size=2).map(tuple)),
    target=_text.filter(bool),
    components=st.integers(0, 10_000),
)


@settings(max_examples=60, deadline=None)
@given(_reports)
def test_property_any_report_round_trips_and_validates(report: Report) -> None:
    text = render_json(report)
    VALIDATOR.validate(json.loads(text))
    assert report_from_json(text) == report
