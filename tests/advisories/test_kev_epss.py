"""CISA KEV and FIRST EPSS parsing, and their import into the store."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.advisories._sources import (
    is_kev_document,
    load_epss,
    parse_epss,
    parse_kev,
    read_capped,
)
from mamori.advisories.store import AdvisoryStore, Limits
from mamori.errors import ParseError

EPSS = Path(__file__).resolve().parent / "fixtures" / "epss"


@pytest.fixture(scope="module")
def kev_path(shared_data: Path) -> Path:
    return shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json"


def test_the_real_kev_catalogue_parses_completely(kev_path: Path) -> None:
    doc = json.loads(kev_path.read_text(encoding="utf-8"))
    assert is_kev_document(doc)
    catalog = parse_kev(doc, str(kev_path))
    assert catalog.errors == ()
    assert len(catalog.entries) == doc["count"] == len(doc["vulnerabilities"])
    assert catalog.version == doc["catalogVersion"] and catalog.released == doc["dateReleased"]
    first, raw = catalog.entries[0], doc["vulnerabilities"][0]
    assert (first.cve_id, first.vendor, first.product) == (raw["cveID"], raw["vendorProject"], raw["product"])
    assert first.ransomware == raw["knownRansomwareCampaignUse"]
    assert first.record == raw


def test_kev_entries_without_a_cve_are_errors_not_crashes() -> None:
    doc = {
        "catalogVersion": "1",
        "vulnerabilities": [{"cveID": "CVE-2021-44228", "vendorProject": "Apache"}, {"cveID": "nope"}, 5],
    }
    catalog = parse_kev(doc, "kev.json")
    assert [e.cve_id for e in catalog.entries] == ["CVE-2021-44228"]
    assert [e.message.split(":")[0] for e in catalog.errors] == ["vulnerabilities[1]", "vulnerabilities[2]"]


@pytest.mark.parametrize(
    "doc", [{"id": "GHSA-1"}, {"vulnerabilities": [{"id": "x"}]}, [], {"vulnerabilities": "x"}]
)
def test_non_kev_documents_are_not_taken_for_kev(doc: object) -> None:
    assert not is_kev_document(doc)


def test_epss_sample_is_read_with_its_model_header() -> None:
    scores = load_epss(EPSS / "epss_scores_sample.csv", "sample.csv")
    assert scores.model_version == "v2025.03.14"
    assert scores.score_date == "2025-08-25T12:55:00Z"
    lines = (EPSS / "epss_scores_sample.csv").read_text().splitlines()[2:]
    expected = [(c, float(e), float(p)) for c, e, p in (line.split(",") for line in lines)]
    assert list(scores.rows) == expected
    assert scores.errors == ()


def test_bad_epss_rows_are_errors_with_their_line() -> None:
    scores = load_epss(EPSS / "epss_bad_rows.csv", "bad.csv")
    assert [r[0] for r in scores.rows] == ["CVE-2021-44228", "CVE-2022-0003"]
    assert [e.line for e in scores.errors] == [4, 5, 6]
    assert all(e.path == "bad.csv" for e in scores.errors)


def test_a_csv_that_is_not_epss_is_refused() -> None:
    with pytest.raises(ParseError, match="cve,epss,percentile"):
        load_epss(EPSS / "not_epss.csv", "deps.csv")


def test_gzip_is_detected_by_content_and_capped(tmp_path: Path) -> None:
    plain = (EPSS / "epss_scores_sample.csv").read_bytes()
    packed = tmp_path / "epss.csv.gz"
    packed.write_bytes(gzip.compress(plain))
    assert read_capped(packed) == plain
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"0" * (8 * 1024 * 1024)))
    with pytest.raises(ParseError, match="refused"):
        read_capped(bomb, limit=1024 * 1024)
    broken = tmp_path / "truncated.csv.gz"
    broken.write_bytes(gzip.compress(plain)[:-12])
    with pytest.raises(ParseError, match="decompress"):
        read_capped(broken)


_cve = st.builds(lambda y, n: f"CVE-{y}-{n:04d}", st.integers(1999, 2030), st.integers(1, 10**7))
_prob = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_cve, st.tuples(_prob, _prob), max_size=30))
def test_epss_rows_round_trip(rows: dict[str, tuple[float, float]]) -> None:
    out = io.StringIO()
    out.write("#model_version:v1,score_date:2025-01-01T00:00:00Z\ncve,epss,percentile\n")
    for cve, (score, pct) in rows.items():
        out.write(f"{cve},{score!r},{pct!r}\n")
    parsed = parse_epss(io.StringIO(out.getvalue()), "gen.csv")
    assert {c: (s, p) for c, s, p in parsed.rows} == rows
    assert parsed.errors == ()


def test_import_stores_kev_and_epss_and_replaces_them_wholesale(tmp_path: Path, kev_path: Path) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = store.import_paths([kev_path, EPSS / "epss_scores_sample.csv"])
    doc = json.loads(kev_path.read_text(encoding="utf-8"))
    assert summary.kev == doc["count"] and summary.epss == 4 and summary.errors == ()
    entry = store.kev_entry(doc["vulnerabilities"][3]["cveID"].lower())
    assert entry == doc["vulnerabilities"][3]
    assert store.kev_entry("CVE-1999-0001") is None
    assert store.epss("CVE-2021-44228") == (0.94358, 0.99960)
    status = store.status()
    assert (status.kev_count, status.kev_version) == (doc["count"], doc["catalogVersion"])
    assert (status.epss_count, status.epss_score_date) == (4, "2025-08-25T12:55:00Z")
    assert status.epss_model_version == "v2025.03.14"

    smaller = tmp_path / "kev-small.json"
    smaller.write_text(json.dumps({**doc, "vulnerabilities": doc["vulnerabilities"][:2]}))
    again = store.import_paths([smaller, EPSS / "epss_bad_rows.csv"])
    assert again.kev == 2 and again.epss == 2 and len(again.errors) == 3
    assert store.status().kev_count == 2
    assert store.kev_entry(doc["vulnerabilities"][3]["cveID"]) is None
    assert store.epss("CVE-2019-10906") is None
    assert store.epss("CVE-2022-0003") == (0.2, 0.4)


def test_epss_gzip_bomb_is_an_import_error(tmp_path: Path) -> None:
    bomb = tmp_path / "epss.csv.gz"
    bomb.write_bytes(gzip.compress(b"#model_version:v1\ncve,epss,percentile\n" + b"\n" * (4 * 1024 * 1024)))
    store = AdvisoryStore(tmp_path / "db.sqlite", limits=Limits(max_epss_bytes=1024 * 1024))
    summary = store.import_paths([bomb, EPSS / "epss_scores_sample.csv"])
    assert summary.epss == 4
    assert [e.path for e in summary.errors] == [str(bomb)]
