"""mamori's version orderings against each ecosystem's own tool.

Two kinds of evidence, both judged by the native tools themselves (see ``native_versions``):

* the committed verdicts in ``version-pairs/*.csv.gz`` (at least 10,000 pairs per ecosystem,
  random and adversarial, invalid strings included; written by ``scripts/gen-version-pairs``), so
  these tests need no tool installed;
* fresh hypothesis-generated pairs judged live by the tool when it is installed (skipped, saying
  how to install it, when it is not).

Agreement means: where the tool orders a pair, mamori orders it the same; mamori's ``is_valid``
says what the tool says of each side; where the tool gives no order (it rejects a side, or Go's
"all invalid strings are equal"), mamori still answers without raising, keeps a valid version
above an invalid one, and calls two different strings equal only when their keys are equal in
both directions.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.advisories import native_versions as nv

from mamori.advisories.versions import compare, is_valid, normalize

DATA = Path(__file__).parent / "version-pairs"
MIN_PAIRS = 10_000

Row = tuple[str, str, int | None, bool, bool]


def load(eco: str) -> list[Row]:
    """The committed verdicts for ``eco``."""
    raw = gzip.decompress((DATA / f"{nv.FILE_NAMES[eco]}.csv.gz").read_bytes())
    reader = csv.reader(io.StringIO(raw.decode("utf-8", "surrogateescape")))
    next(reader)
    return [(a, b, None if c == "" else int(c), va == "1", vb == "1") for a, b, c, va, vb in reader]


def disagreements(eco: str, rows: Sequence[Row]) -> list[tuple[str, str, str, str]]:
    """(a, b, what the tool said, what mamori said) for every row mamori gets wrong."""
    bad = []
    for a, b, cmp, va, vb in rows:
        got = compare(eco, a, b)
        if cmp is not None and got != cmp:
            bad.append((a, b, f"cmp {cmp}", f"cmp {got}"))
        if is_valid(eco, a) != va:
            bad.append((a, b, f"valid(a) {va}", f"valid(a) {not va}"))
        if is_valid(eco, b) != vb:
            bad.append((a, b, f"valid(b) {vb}", f"valid(b) {not vb}"))
        if cmp is None and va != vb and got != (1 if va else -1):
            bad.append((a, b, "valid above invalid", f"cmp {got}"))
        if got != -compare(eco, b, a):
            bad.append((a, b, "antisymmetric", f"cmp {got} both ways"))
    return bad


@pytest.mark.parametrize("eco", nv.ECOSYSTEMS)
def test_committed_verdicts_are_large_and_include_invalid_versions(eco: str) -> None:
    rows = load(eco)
    assert len(rows) >= MIN_PAIRS
    assert len({(a, b) for a, b, *_ in rows}) == len(rows)
    assert any(c == 0 and a != b for a, b, c, *_ in rows), "no equal pairs of different spellings"
    if eco != "Maven":  # Maven calls every string a version
        assert sum(1 for *_, va, vb in rows if not (va and vb)) > 100


@pytest.mark.parametrize("eco", nv.ECOSYSTEMS)
def test_agrees_with_the_native_tool_on_committed_pairs(eco: str) -> None:
    bad = disagreements(eco, load(eco))
    assert not bad, f"{len(bad)} disagreements, e.g. {bad[:8]}"


# --- live: fresh pairs judged by the tool now -------------------------------------------------


def _version(eco: str) -> st.SearchStrategy[str]:
    pieces = st.lists(st.sampled_from(nv.PIECES[eco]), max_size=7).map("".join)
    head = st.sampled_from(["", "0", "1", "2", "10"])
    return st.builds(lambda h, t: nv.clean(h + t), head, pieces)


def _pairs(eco: str) -> st.SearchStrategy[list[nv.Pair]]:
    v = _version(eco)
    near = v.flatmap(
        lambda a: st.tuples(st.just(a), st.builds(lambda s: a + s, st.sampled_from(nv.PIECES[eco])))
    )
    return st.lists(st.one_of(st.tuples(v, v), near), min_size=150, max_size=150)


def _live(eco: str, pairs: list[nv.Pair]) -> None:
    oracle, available = nv.ORACLES[eco]
    missing = available()
    if missing:
        pytest.skip(missing)
    verdicts = oracle(pairs)
    rows = [(a, b, v.cmp, v.valid_a, v.valid_b) for (a, b), v in zip(pairs, verdicts, strict=True)]
    bad = disagreements(eco, rows)
    assert not bad, bad[:8]


_LIVE = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("eco", [e for e in nv.ECOSYSTEMS if e != "Debian"])
@_LIVE
@given(data=st.data())
def test_agrees_with_the_native_tool_on_fresh_pairs(eco: str, data: st.DataObject) -> None:
    _live(eco, data.draw(_pairs(eco)))


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_agrees_with_dpkg_on_fresh_pairs(data: st.DataObject) -> None:
    # dpkg takes one process per comparison: a smaller batch keeps this test short.
    _live("Debian", data.draw(_pairs("Debian"))[:60])


# --- the cases the matching issue named, and how invalid versions are treated ----------------

ISSUE_PAIRS = {
    "Go": [("v1.1.3.4.5", "1.1.3.4.5")],
    "Maven": [("1-1", "1-ga-1"), ("1.2.67.sec10", "1.2.67_noneautotype")],
    "Packagist": [("1.0.0", "1.0"), ("1.2.3.#", "1.2.3")],
    "Debian": [("5.6.20+dfsg-0+deb8u1", "5.6.20+dfsg-1"), ("8.4.5-0squeeze2", "8.4.5-1~bpo50+1")],
    "Alpine": [("1-r", "1-r0"), ("6.6.2p1", "6.6.2_p1")],
    "Red Hat": [("1", "1-")],
}


@pytest.mark.parametrize("eco", sorted(ISSUE_PAIRS))
def test_named_cases_are_judged_by_the_tool_and_agreed_with(eco: str) -> None:
    rows = {(a, b): row for row in load(eco) for a, b in [row[:2]]}
    for pair in ISSUE_PAIRS[eco]:
        for a, b in (pair, pair[::-1]):
            assert (a, b) in rows, f"{a!r} vs {b!r} missing from the committed {eco} verdicts"
            assert not disagreements(eco, [rows[a, b]])


def test_go_keeps_two_invalid_versions_apart() -> None:
    # Go's semver.Compare calls every invalid string equal to every other; a matcher must not.
    rows = [r for r in load("Go") if not (r[3] or r[4]) and r[0] != r[1]]
    assert len(rows) > 100
    assert all(compare("Go", a, b) != 0 for a, b, *_ in rows)
    assert normalize("Go", "v1.1.3.4.5") != normalize("Go", "1.1.3.4.5")
    assert normalize("Go", "v1.2.3") == normalize("Go", "1.2.3") == "1.2.3"


def test_rejected_versions_sort_below_accepted_ones() -> None:
    for eco, bad, good in [
        ("Debian", "1:", "0~"),
        ("Packagist", "1.2.3.#", "0.0.1-dev"),
        ("Red Hat", "", "~"),
    ]:
        assert not is_valid(eco, bad)
        assert compare(eco, bad, good) == -1
