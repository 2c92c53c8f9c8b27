"""Choosing the fix version: properties of :func:`lowest_fix_above` over PEP 440 and SemVer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mamori.output._versions import highest, lowest_fix_above, version_key

_versions = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)).map(
    lambda t: ".".join(map(str, t))
)


@given(_versions, st.lists(_versions, max_size=6))
def test_lowest_fix_above_is_the_minimum_of_newer_fixes(current: str, fixed: list[str]) -> None:
    for eco in ("PyPI", "npm"):
        got = lowest_fix_above(eco, current, fixed)
        newer = [v for v in fixed if version_key(eco, v) > version_key(eco, current)]
        if not newer:
            assert got is None
        else:
            assert got in newer
            assert all(version_key(eco, got) <= version_key(eco, v) for v in newer)


@given(st.lists(_versions, min_size=1, max_size=6))
def test_highest_is_an_upper_bound(versions: list[str]) -> None:
    top = highest("npm", versions)
    assert top in versions
    assert all(version_key("npm", v) <= version_key("npm", top) for v in versions)


def test_numeric_not_lexical_order() -> None:
    assert lowest_fix_above("npm", "1.9.0", ["1.10.0", "1.2.0"]) == "1.10.0"
    assert lowest_fix_above("PyPI", "2.10", ["2.9.1", "2.10.1", "2.11.3"]) == "2.10.1"


def test_prereleases_sort_below_release() -> None:
    assert lowest_fix_above("npm", "1.2.0-rc1", ["1.2.0"]) == "1.2.0"
    assert lowest_fix_above("PyPI", "1.2.0rc1", ["1.2.0"]) == "1.2.0"
    assert lowest_fix_above("Go", "v1.2.0", ["v1.2.0"]) is None


def test_no_current_version_takes_the_lowest_fix() -> None:
    assert lowest_fix_above("PyPI", "", ["3.0", "2.0.1"]) == "2.0.1"
