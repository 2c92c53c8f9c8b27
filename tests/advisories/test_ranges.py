"""OSV range evaluation: spec rules, properties, and the real PyPA advisory database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.advisories.interface import Affected, AffectedRange, RangeEvent
from mamori.advisories.ranges import fixed_versions, is_affected
from mamori.advisories.versions import compare

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def _affected(
    ecosystem: str, *ranges: tuple[str, list[tuple[str, str]]], versions: tuple[str, ...] = ()
) -> Affected:
    return Affected(
        ecosystem=ecosystem,
        name="pkg",
        ranges=tuple(
            AffectedRange(type=t, events=tuple(RangeEvent(kind=k, value=v) for k, v in evs))
            for t, evs in ranges
        ),
        versions=versions,
    )


# --- the OSV evaluation rules -----------------------------------------------------------------

SIMPLE = _affected("PyPI", ("ECOSYSTEM", [("introduced", "1.0"), ("fixed", "1.5")]))


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9", False), ("1.0", True), ("1.0.0", True), ("1.4.9", True), ("1.5rc1", True), ("1.5", False),
     ("2.0", False), ("", False), ("   ", False)],
)  # fmt: skip
def test_introduced_fixed(version: str, expected: bool) -> None:
    assert is_affected(SIMPLE, version) is expected


def test_introduced_zero_is_below_everything_even_debian_tildes() -> None:
    aff = _affected("Debian:12", ("ECOSYSTEM", [("introduced", "0"), ("fixed", "1.0-2")]))
    assert is_affected(aff, "0~~pre")
    assert is_affected(aff, "1.0-1")
    assert not is_affected(aff, "1.0-2")
    assert not is_affected(aff, "1:0.1-1")  # the epoch makes it newer than the fix


def test_last_affected_is_inclusive() -> None:
    aff = _affected("npm", ("SEMVER", [("introduced", "0"), ("last_affected", "2.3.4")]))
    assert is_affected(aff, "2.3.4")
    assert is_affected(aff, "2.3.4+build")
    assert not is_affected(aff, "2.3.5-alpha")


def test_multiple_introduced_fixed_pairs_and_unsorted_events() -> None:
    events = [("fixed", "2.1.3"), ("introduced", "2.0.0"), ("fixed", "1.2.5"), ("introduced", "0")]
    aff = _affected("crates.io", ("SEMVER", events))
    assert [is_affected(aff, v) for v in ("1.0.0", "1.2.5", "1.9.9", "2.0.0", "2.1.2", "2.1.3")] == [
        True, False, False, True, True, False,
    ]  # fmt: skip


def test_limit_caps_the_range_and_star_means_no_limit() -> None:
    capped = _affected("Go", ("ECOSYSTEM", [("introduced", "0"), ("limit", "v1.5.0")]))
    assert is_affected(capped, "v1.4.9")
    assert not is_affected(capped, "v1.5.0")
    star = _affected("Go", ("ECOSYSTEM", [("introduced", "1.0.0"), ("limit", "*")]))
    assert is_affected(star, "v99.0.0")


def test_ranges_or_together_and_git_is_ignored() -> None:
    aff = _affected(
        "Maven",
        ("GIT", [("introduced", "0"), ("fixed", "abc123")]),
        ("ECOSYSTEM", [("introduced", "1.0"), ("fixed", "1.1")]),
        ("ECOSYSTEM", [("introduced", "2.0-beta1"), ("fixed", "2.0.1")]),
    )
    assert is_affected(aff, "1.0.5")
    assert is_affected(aff, "2.0-RC1")
    assert is_affected(aff, "2.0.0.Final")
    assert not is_affected(aff, "1.1")
    assert not is_affected(aff, "2.0-alpha")
    assert fixed_versions(aff) == ("1.1", "2.0.1")


def test_git_only_is_never_version_affected() -> None:
    aff = _affected("PyPI", ("GIT", [("introduced", "0"), ("fixed", "deadbeef")]))
    assert not is_affected(aff, "1.0")
    assert fixed_versions(aff) == ()


def test_versions_list_matches_after_normalisation() -> None:
    aff = _affected("PyPI", versions=("1.0", "2.0.0rc1"))
    assert is_affected(aff, "1.0.0")
    assert is_affected(aff, "2.0.0-RC1")
    assert not is_affected(aff, "1.0.1")
    go = _affected("Go", versions=("1.2.3",))
    assert is_affected(go, "v1.2.3")


def test_introduced_and_fixed_at_one_version_cancel_out() -> None:
    empty = _affected("PyPI", ("ECOSYSTEM", [("introduced", "1.0"), ("fixed", "1.0")]))
    assert not is_affected(empty, "1.0")
    # A fix re-introduced at the same version (merged ranges, as in PYSEC-2022-236).
    merged = _affected(
        "PyPI",
        ("ECOSYSTEM", [("introduced", "0"), ("fixed", "3.1.1"), ("introduced", "3.1.1"), ("fixed", "3.1.3")]),
    )
    assert [is_affected(merged, v) for v in ("3.1.0", "3.1.1", "3.1.2", "3.1.3")] == [True, True, True, False]


def test_fixed_versions_are_distinct_and_in_ecosystem_order() -> None:
    aff = _affected(
        "Debian:12",
        ("ECOSYSTEM", [("introduced", "0"), ("fixed", "1.0-1")]),
        ("ECOSYSTEM", [("introduced", "0"), ("fixed", "1.0~rc2-1"), ("fixed", "1.0-1")]),
    )
    assert fixed_versions(aff) == ("1.0~rc2-1", "1.0-1")


def test_bad_event_versions_do_not_crash() -> None:
    aff = _affected(
        "PyPI", ("ECOSYSTEM", [("introduced", "not a version"), ("fixed", "2.0"), ("bogus", "x")])
    )
    assert is_affected(aff, "1.0")  # invalid versions sort below valid ones
    assert not is_affected(aff, "2.0")


# --- properties -------------------------------------------------------------------------------

SEMVER = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(["", "alpha", "rc.1", "1"]),
)
PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(introduced=SEMVER, fixed=SEMVER)
def test_fixed_is_never_affected(introduced: str, fixed: str) -> None:
    aff = _affected("npm", ("SEMVER", [("introduced", introduced), ("fixed", fixed)]))
    assert not is_affected(aff, fixed)


@PROPS
@given(introduced=SEMVER, fixed=SEMVER, limit=SEMVER)
def test_introduced_is_affected_unless_fixed_equals_it_or_limit_caps_it(
    introduced: str, fixed: str, limit: str
) -> None:
    aff = _affected("npm", ("SEMVER", [("introduced", introduced), ("fixed", fixed), ("limit", limit)]))
    expected = compare("npm", introduced, fixed) != 0 and compare("npm", introduced, limit) < 0
    assert is_affected(aff, introduced) is expected


@PROPS
@given(introduced=SEMVER, last=SEMVER, version=SEMVER)
def test_last_affected_interval(introduced: str, last: str, version: str) -> None:
    aff = _affected("npm", ("SEMVER", [("introduced", introduced), ("last_affected", last)]))
    if compare("npm", introduced, last) <= 0:
        expected = compare("npm", introduced, version) <= 0 and compare("npm", version, last) <= 0
    else:  # last_affected sorts first and closes nothing; introduced then opens for good
        expected = compare("npm", introduced, version) <= 0
    assert is_affected(aff, version) is expected


@PROPS
@given(introduced=SEMVER, fixed=SEMVER, version=SEMVER)
def test_single_pair_is_half_open_interval(introduced: str, fixed: str, version: str) -> None:
    aff = _affected("npm", ("ECOSYSTEM", [("introduced", introduced), ("fixed", fixed)]))
    if compare("npm", introduced, fixed) < 0:
        expected = compare("npm", introduced, version) <= 0 and compare("npm", version, fixed) < 0
    elif compare("npm", introduced, fixed) == 0:
        expected = False  # ties sort introduced first, so the fix closes the range at once
    else:
        expected = compare("npm", introduced, version) <= 0
    assert is_affected(aff, version) is expected


# --- the real PyPA advisory database ----------------------------------------------------------


def _load_pypa(root: Path) -> list[tuple[str, Affected, tuple[str, ...]]]:
    """(advisory id, ranges-only Affected, its explicit versions) for every PyPI advisory."""
    out = []
    for path in sorted(root.glob("vulns/*/*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        for entry in doc.get("affected") or []:
            ranges = tuple(
                AffectedRange(
                    type=r["type"],
                    events=tuple(RangeEvent(kind=k, value=str(v)) for e in r["events"] for k, v in e.items()),
                )
                for r in entry.get("ranges") or []
            )
            versions = tuple(str(v) for v in entry.get("versions") or [])
            out.append(
                (
                    doc["id"],
                    Affected(ecosystem="PyPI", name=entry["package"]["name"], ranges=ranges),
                    versions,
                )
            )
    return out


@pytest.fixture(scope="module")
def pypa(shared_data: Path) -> list[tuple[str, Affected, tuple[str, ...]]]:
    root = shared_data / "pypa-advisory-db"
    if not root.is_dir():
        pytest.skip("pypa-advisory-db is not in ../shared/data")
    return _load_pypa(root)


def test_pypa_listed_versions_are_inside_their_ranges(
    pypa: list[tuple[str, Affected, tuple[str, ...]]],
) -> None:
    """OSV's tooling enumerated each ``versions`` list from the ranges: evaluating the ranges
    alone must mark every listed version affected."""
    checked = 0
    misses = []
    for adv_id, aff, versions in pypa:
        if not any(r.type == "ECOSYSTEM" for r in aff.ranges):
            continue
        for v in versions:
            checked += 1
            if not is_affected(aff, v):
                misses.append((adv_id, v))
    assert checked > 10_000
    # Entries where the enumerated list contradicts the ranges themselves; the spec's answer is kept.
    known_data_errors = {
        # introduced "3.2"/"4.2": PEP 440 puts 3.2a1 below 3.2, yet the list has the pre-releases
        *(("PYSEC-2023-61", f"{m}{p}") for m in ("3.2", "4.2") for p in ("a1", "b1", "rc1")),
        # fixed: 23.9.0, yet 23.9.0 and its post-release are listed
        ("PYSEC-2023-177", "23.9.0"),
        ("PYSEC-2023-177", "23.9.0.post1"),
        # two ranges merged into one: fixed 2.11.6 closes what "introduced 2.11" opened
        ("PYSEC-2021-114", "2.11.6"),
    }
    assert set(misses) <= known_data_errors, sorted(set(misses) - known_data_errors)[:20]


def test_pypa_fixed_versions_are_never_affected(pypa: list[tuple[str, Affected, tuple[str, ...]]]) -> None:
    """Unless a range re-introduces at the very version it fixes (merged ranges such as
    PYSEC-2022-42972: fixed 0.13.0 and introduced 0.13.0), where the version stays affected."""
    checked = reopened = 0
    for adv_id, aff, _versions in pypa:
        introduced = [e.value for r in aff.ranges for e in r.events if e.kind == "introduced"]
        for fixed in fixed_versions(aff):
            checked += 1
            if any(compare("PyPI", fixed, i) == 0 for i in introduced):
                reopened += 1
                assert is_affected(aff, fixed), (adv_id, fixed)
            else:
                assert not is_affected(aff, fixed), (adv_id, fixed)
    assert checked > 1_000
    assert reopened < checked // 100
