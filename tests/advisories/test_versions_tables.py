"""Hard cases per ecosystem: each table is a chain in ascending order; ``==`` links equal versions.

The chains come from the schemes' reference documentation and implementations (PEP 440 examples,
SemVer §11, Go's pseudo-version rules, Maven's ComparableVersion tests, dpkg/apk/rpm man pages).
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from mamori.advisories.versions import compare, is_valid, normalize, scheme_for, sort_key

CHAINS: dict[str, list[str]] = {
    "PyPI": ["not a version", "0.9", "1.0.dev1", "1.0a1", "1.0a2.dev1", "1.0a2", "1.0b1", "1.0rc1", "1.0",
             "==", "1.0.0", "1.0+local.1", "1.0.post1.dev1", "1.0.post1", "1.1", "1!0.1"],
    "npm": ["not-semver", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
            "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "==", "1.0.0+build.5", "==", "v1.0.0",
            "==", "1.0", "1.0.1", "1.2.3beta", "1.2.3"],
    "crates.io": ["0.1.0", "0.1.10", "1.0.0-rc.1", "1.0.0"],
    "Go": ["v1.2.3.4", "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0", "v1.2.3",
           "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-pre", "v1.2.4", "==", "1.2.4", "v2.0.0",
           "==", "v2.0.0+incompatible", "v2.1"],
    "Maven": ["1-alpha-1", "1-alpha-2", "1-beta", "1-milestone-1", "1-rc-1", "==", "1-cr-1",
              "1-SNAPSHOT", "1", "==", "1.0", "==", "1-ga", "==", "1-final", "==", "1.0.0.RELEASE", "1-sp",
              "1-abc", "1-xyz", "1-1", "1.1"],
    "NuGet": ["1.0.0-alpha", "1.0.0-Beta", "==", "1.0.0-beta", "1.0.0-beta.2", "1.0.0", "==", "1.0",
              "==", "1.0.0.0", "1.0.0.1", "1.0.1"],
    "RubyGems": ["0.9", "1.0.a", "1.0.a1", "1.0.b", "1.0.b1", "1.0.b2", "1.0.b10", "1.0.rc1", "1.0", "==",
                 "1", "==", "1.0.0", "1.0.0.1", "1.1"],
    "Packagist": ["dev-main", "1.0.0-dev", "1.0.0-alpha1", "==", "1.0.0-a1", "1.0.0-beta2", "==",
                  "1.0.0-b2", "1.0.0-RC1", "1.0.0", "==", "v1.0", "==", "1.0.0.0", "1.0.0-patch1", "==",
                  "1.0.0-pl1", "1.0.0.1", "1.0.1"],
    "Debian:12": ["1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "==", "1.0-0", "==", "0:1.0",
                  "1.0-1~bpo1", "1.0-1", "1.0-1+deb12u1", "1.0a", "1.0+dfsg", "1.0.0", "1:0.1"],
    "Ubuntu:22.04:LTS": ["2.35-0ubuntu3", "2.35-0ubuntu3.1", "2.35-0ubuntu3.10"],
    "Alpine:v3.18": ["1.0_alpha", "1.0_beta2", "1.0_pre1", "1.0_rc1", "1.0", "1.0-r1", "1.0_p1",
                     "1.0a", "1.0.1", "1.01.0", "1.1"],
    "Red Hat": ["1.0~rc1-1", "1.0-1", "1.0^git1-1", "1.0.1-1", "1.0.1-1.el9", "1.0.1-2", "1:0.1-1"],
    "Rocky Linux": ["2.a-1", "2.0-1", "==", "2_0-1", "2.1-1"],
    "CRAN": ["0.9-1", "1.0", "1.0-0", "==", "1.0.0", "1.0-1", "1.10.0"],
    "SomethingNew": ["1.0a", "1.0", "1.0.1", "1.10"],
}  # fmt: skip


def _links(chain: list[str]) -> list[tuple[str, str, int]]:
    out = []
    prev: str | None = None
    rel = -1
    for item in chain:
        if item == "==":
            rel = 0
            continue
        if prev is not None:
            out.append((prev, item, rel))
        prev, rel = item, -1
    return out


CASES = [(eco, a, b, rel) for eco, chain in CHAINS.items() for a, b, rel in _links(chain)]


@pytest.mark.parametrize(("ecosystem", "older", "newer", "relation"), CASES)
def test_chain_link(ecosystem: str, older: str, newer: str, relation: int) -> None:
    assert compare(ecosystem, older, newer) == relation
    assert compare(ecosystem, newer, older) == -relation


@pytest.mark.parametrize("ecosystem", sorted(CHAINS))
def test_sorting_a_shuffled_chain_restores_it(ecosystem: str) -> None:
    chain = [v for v in CHAINS[ecosystem] if v != "=="]
    shuffled = list(reversed(chain))
    result = sorted(shuffled, key=lambda v: sort_key(ecosystem, v))
    for a, b in pairwise(result):
        assert compare(ecosystem, a, b) <= 0
    # Strictly ordered elements keep their chain order.
    ranks = {v: i for i, v in enumerate(chain)}
    strict = [v for v in result if all(compare(ecosystem, v, w) != 0 for w in chain if w != v)]
    assert strict == sorted(strict, key=ranks.__getitem__)


@pytest.mark.parametrize(
    ("ecosystem", "version", "valid"),
    [
        ("PyPI", "1.0.post1", True),
        ("PyPI", "2004d", False),
        ("npm", "1.2.3-rc.1+build", True),
        ("npm", "banana", False),
        ("Go", "v1.2.3+incompatible", True),
        ("Go", "v01.2.3", False),
        ("Go", "v1.2-pre", False),
        ("RubyGems", "1.0.a", True),
        ("RubyGems", "a1", False),
        ("Packagist", "v2.1.0-RC1", True),
        ("Packagist", "dev-main", True),  # a branch: Composer normalises it
        ("Packagist", "1.2.3.#", False),
        ("Debian", "1:2.30-1+deb12u1", True),
        ("Debian", "a1.0", False),
        ("Debian", "x:1.0", False),
        ("Alpine", "1.2.3_git20230101-r0", True),
        ("Alpine", "1.0-1", False),
        ("Alpine", "1.0aa", False),
        ("Red Hat", "1:2.3-4.el9", True),
        ("CRAN", "1.2-3", True),
        ("CRAN", "1.2a", False),
        ("NuGet", "1.2.3.4-beta", True),
        ("NuGet", "1.2.3.4.5", False),
    ],
)
def test_validity(ecosystem: str, version: str, valid: bool) -> None:
    assert is_valid(ecosystem, version) is valid


@pytest.mark.parametrize(
    ("ecosystem", "a", "b"),
    [
        ("PyPI", "1.0.0", "1"),
        ("PyPI", "1.0-alpha.1", "1a1"),
        ("Go", "v1.2.3", "1.2.3"),
        ("npm", "v1.2", "1.2.0"),
        ("NuGet", "1.0.0.0-Beta+meta", "1.0.0-beta"),
        ("Packagist", "v1.2-beta1", "1.2.0.0-beta1"),
        ("Debian", "0:1.0-1", "1.0-1"),
        ("CRAN", "1.0-2", "1.0.2"),
    ],
)
def test_normalize_joins_spellings(ecosystem: str, a: str, b: str) -> None:
    assert normalize(ecosystem, a) == normalize(ecosystem, b)


def test_ecosystem_suffixes_and_unknown_ecosystems() -> None:
    assert scheme_for("Debian:12").name == "dpkg"
    assert scheme_for("Alpine:v3.18").name == "apk"
    assert scheme_for("openSUSE:Leap 15.5").name == "rpm"
    assert scheme_for("NoSuchEcosystem").name == "generic"
