"""OSV parsing: every optional field tolerated, YAML read safely, decode errors carry lines."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.advisories.interface import RangeEvent
from mamori.advisories.osv import load_json, load_yaml, parse_advisory, parse_timestamp
from mamori.errors import ParseError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "osv"


def _load(name: str) -> object:
    path = FIXTURES / name
    data = path.read_bytes()
    return load_json(data, name) if name.endswith(".json") else load_yaml(data, name)


def test_every_field_of_a_ghsa_record_is_read() -> None:
    raw = _load("ghsa_full_fields.json")
    assert isinstance(raw, dict)
    adv = parse_advisory(raw)
    assert adv.id == raw["id"]
    assert adv.aliases == tuple(raw["aliases"])
    assert adv.related == tuple(raw["related"])
    assert adv.modified == raw["modified"] and adv.published == raw["published"]
    assert adv.summary == raw["summary"] and adv.details == raw["details"]
    top = [(s["type"], s["score"]) for s in raw["severity"]]
    per_package = [(s["type"], s["score"]) for s in raw["affected"][0]["severity"]]
    assert list(adv.severity) == top + per_package
    assert adv.database_severity == "medium"  # GHSA says MODERATE
    assert adv.cwes == ("CWE-693",)
    assert len(adv.references) == len({r["url"] for r in raw["references"]})
    assert [a.ecosystem for a in adv.affected] == [a["package"]["ecosystem"] for a in raw["affected"]]
    pypi, go, rust, git = adv.affected
    assert pypi.purl == "pkg:pypi/jinja2" and pypi.versions == ("2.0", "2.10")
    assert pypi.ranges[0].events == (RangeEvent("introduced", "0"), RangeEvent("fixed", "2.10.1"))
    assert pypi.functions == ("jinja2.sandbox.SandboxedEnvironment.call",)
    assert go.functions == ("example.com/tmpl/render.Render", "example.com/tmpl/render.Exec")
    assert go.ranges[0].type == "SEMVER" and go.ranges[0].events[-1].kind == "last_affected"
    assert rust.functions == ("tmpl_rs::render",)
    assert [e.kind for e in rust.ranges[0].events] == ["introduced", "fixed", "introduced", "limit"]
    assert git.ranges[0].type == "GIT"


def test_wrong_types_are_left_empty_not_fatal() -> None:
    adv = parse_advisory(_load("odd_types.json"))
    assert adv.id == "OSV-2024-0001"
    assert adv.modified == "" and adv.published == ""
    assert adv.aliases == () and adv.summary == "" and adv.details == ""
    assert adv.related == ("OSV-2024-0002",)
    assert adv.severity == (("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),)
    assert adv.references == ("https://example.org/a",)
    assert len(adv.affected) == 1
    (requests,) = adv.affected
    assert requests.name == "requests"
    assert requests.versions == ("2.30.0", "2.29")
    assert requests.ranges[0].events == (RangeEvent("introduced", "0"), RangeEvent("fixed", "2.31"))


@pytest.mark.parametrize("record", [{}, {"id": ""}, {"id": 5}, [], "GHSA-x", None])
def test_a_record_without_an_id_is_refused(record: object) -> None:
    with pytest.raises(ValueError):
        parse_advisory(record)


def test_yaml_keeps_versions_and_timestamps_as_written() -> None:
    raw = _load("record_newer.yml")
    assert isinstance(raw, dict)
    assert raw["affected"][0]["versions"] == ["1.10", "3.0.8"]
    adv = parse_advisory(raw)
    assert adv.modified == "2024-06-01T12:00:00Z"
    assert adv.published == "2022-12-01T00:00:00Z"
    json.dumps(raw)  # storable as JSON without a custom encoder


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    with pytest.raises(ParseError) as info:
        _load("alias_bomb.yaml")
    assert "alias" in str(info.value)
    assert info.value.path == "alias_bomb.yaml"


def test_yaml_decode_error_names_the_line() -> None:
    with pytest.raises(ParseError) as info:
        _load("broken_yaml_line3.yaml")
    assert info.value.line is not None and info.value.line >= 3


def test_json_decode_error_names_the_line() -> None:
    with pytest.raises(ParseError) as info:
        _load("broken_json_line4.json")
    assert info.value.line == 4
    assert str(info.value).startswith("broken_json_line4.json:4: ")


def test_oversized_documents_are_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import mamori.advisories.osv as osv

    monkeypatch.setattr(osv, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(ParseError, match="limit"):
        load_json(b"[" + b"1," * 100 + b"1]", "big.json")
    with pytest.raises(ParseError, match="limit"):
        load_yaml("x: " + "a" * 200, "big.yaml")


def test_every_real_pypa_record_parses(shared_data: Path) -> None:
    files = sorted((shared_data / "pypa-advisory-db" / "vulns").rglob("*.yaml"))
    assert len(files) > 1000
    for path in random.Random(7).sample(files, 400):
        raw = load_yaml(path.read_bytes(), str(path))
        adv = parse_advisory(raw)
        assert adv.id == path.stem
        assert adv.id not in adv.aliases
        assert adv.affected, path
        for aff in adv.affected:
            assert aff.ecosystem == "PyPI" and aff.name
        assert parse_timestamp(adv.modified) is not None, path


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
        max_leaves=25,
    ),
    st.sampled_from(["aliases", "affected", "severity", "references", "database_specific", "summary"]),
)
def test_any_value_in_any_field_never_crashes(value: object, key: str) -> None:
    adv = parse_advisory({"id": "X-1", key: value})
    assert adv.id == "X-1"


@given(st.lists(st.sampled_from(["introduced", "fixed", "last_affected", "limit"]), max_size=6))
def test_range_events_keep_their_order(kinds: list[str]) -> None:
    events = [{k: f"{i}.0"} for i, k in enumerate(kinds)]
    adv = parse_advisory(
        {
            "id": "X",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "a"},
                    "ranges": [{"type": "ECOSYSTEM", "events": events}],
                }
            ],
        }
    )
    got = adv.affected[0].ranges[0].events if adv.affected[0].ranges else ()
    assert [(e.kind, e.value) for e in got] == [(k, f"{i}.0") for i, k in enumerate(kinds)]


def test_yaml_loader_rejects_python_tags() -> None:
    with pytest.raises(ParseError):
        load_yaml("id: !!python/object/apply:os.system ['true']", "evil.yaml")
    assert yaml.safe_load("a: 1") == {"a": 1}


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-01-11T15:20:48.284Z", "2024-01-11T15:20:48.284000+00:00"),
        ("2024-01-11T17:20:48+02:00", "2024-01-11T15:20:48+00:00"),
        ("2024-01-11", "2024-01-11T00:00:00+00:00"),
    ],
)
def test_timestamps_are_compared_in_utc(text: str, iso: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None and parsed.isoformat() == iso


@pytest.mark.parametrize("text", ["", "yesterday", "12345"])
def test_unparseable_timestamps_are_none(text: str) -> None:
    assert parse_timestamp(text) is None
