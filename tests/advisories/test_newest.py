"""The newest release a range allows: properties over arbitrary ranges and release lists."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from mamori.advisories.newest import allows, newest_allowed
from mamori.advisories.versions import sort_key


@dataclass(frozen=True)
class Rel:
    version: str
    yanked: bool = False


_num = st.integers(min_value=0, max_value=12).map(str)
_release = st.builds(lambda a, b, c: f"{a}.{b}.{c}", _num, _num, _num)
_pre = st.builds(lambda v, tag, n: f"{v}{tag}{n}", _release, st.sampled_from(["a", "b", "rc"]), _num)
_pep440_version = st.one_of(_release, _pre)
_op = st.sampled_from([">=", "<=", ">", "<", "==", "!=", "~="])
_pep440_spec = st.lists(st.builds(lambda o, v: f"{o}{v}", _op, _release), min_size=1, max_size=3).map(
    ",".join
)


@given(st.text(max_size=40), st.text(max_size=20), st.sampled_from(["PyPI", "npm", "Go", "Maven"]))
def test_arbitrary_ranges_and_versions_never_raise(spec: str, version: str, eco: str) -> None:
    assert allows(eco, spec, version) in (True, False, None)
    assert newest_allowed(eco, spec, [Rel(version)]) in (None, version)


@given(_pep440_spec, st.lists(st.tuples(_pep440_version, st.booleans()), max_size=12))
def test_pypi_newest_is_what_packaging_would_choose(spec: str, releases: list[tuple[str, bool]]) -> None:
    spec_set = SpecifierSet(spec)
    candidates = [Version(v) for v, yanked in releases if not yanked and not Version(v).is_prerelease]
    allowed = [v for v in candidates if spec_set.contains(v, prereleases=False)]
    got = newest_allowed("PyPI", spec, [Rel(v, y) for v, y in releases])
    if not allowed:
        assert got is None
    else:
        assert got is not None and Version(got) == max(allowed)


@given(
    st.sampled_from(["^4.17.0", "~4.17.0", ">=4.0.0 <4.18.0", "4.x", "*", "4.17.0 - 4.17.20", "^0.2.3"]),
    st.lists(st.tuples(_release, st.booleans()), max_size=12),
)
def test_npm_newest_is_allowed_and_above_every_other_allowed(
    spec: str, releases: list[tuple[str, bool]]
) -> None:
    rels = [Rel(v, y) for v, y in releases]
    got = newest_allowed("npm", spec, rels)
    allowed = [r.version for r in rels if not r.yanked and allows("npm", spec, r.version)]
    if got is None:
        assert not allowed
    else:
        assert allows("npm", spec, got)
        assert all(sort_key("npm", v) <= sort_key("npm", got) for v in allowed)


def test_examples() -> None:
    rels = [Rel("4.17.15"), Rel("4.17.20"), Rel("4.17.21", yanked=True), Rel("5.0.0-alpha.1"), Rel("5.0.0")]
    assert newest_allowed("npm", "^4.17.0", rels) == "4.17.20"
    assert newest_allowed("npm", ">=5.0.0-alpha.0", rels) == "5.0.0"
    assert allows("npm", ">=5.0.0-alpha.0", "5.0.0-alpha.1") is True
    assert allows("npm", "^4", "5.0.0-alpha.1") is False
    assert allows("PyPI", ">=1.0,!=1.2", "1.2") is False
    assert allows("PyPI", "^2.0", "2.1") is None  # poetry syntax: not read, no claim
