"""Choosing upgrade targets against real advisories, from the index (loopback) or offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import closed_port_url, serve_folder

from mamori.advisories.store import AdvisoryStore
from mamori.advisories.versions import compare
from mamori.fix._choose import VersionChooser, major
from mamori.fix._index import PackageIndex, Release
from mamori.inventory.interface import Component
from mamori.model import Location

from .conftest import FIXTURES


def _component(name: str, version: str, eco: str = "PyPI") -> Component:
    return Component(eco, name, version, Location("requirements.txt", 1))


def test_offline_choice_follows_advisories_until_nothing_affects_it(demo_db: Path) -> None:
    store = AdvisoryStore(demo_db)
    chooser = VersionChooser(store, PackageIndex(offline=True))
    # PYSEC-2020-96 names 5.3.1 as fixed, but PYSEC-2021-142 affects 5.3.1: the pool grows to 5.4
    choice = chooser.choose(_component("pyyaml", "5.3"), ("5.3.1",), "in-place")
    assert choice.version == "5.4"
    assert choice.source == "advisories"
    assert not store.lookup([_component("pyyaml", choice.version)])


def test_in_place_crosses_a_major_only_when_the_current_one_has_no_safe_release(demo_db: Path) -> None:
    chooser = VersionChooser(AdvisoryStore(demo_db), PackageIndex(offline=True))
    flask = _component("flask", "0.12.2")
    hint = ("0.12.3", "1.0", "2.2.5", "2.3.2")
    choice = chooser.choose(flask, hint, "in-place")
    latest = chooser.choose(flask, hint, "latest-safe")
    assert choice.version is not None and major("PyPI", choice.version) != "0"
    assert choice.why.startswith("crosses a major") and "major 0" in choice.why
    assert latest.version is not None
    assert compare("PyPI", choice.version, latest.version) <= 0  # the smallest safe one above
    assert not AdvisoryStore(demo_db).lookup([_component("flask", choice.version)])


def test_calendar_versions_are_fixable_in_place(demo_db: Path) -> None:
    """certifi-style versions (2017.4.17 → 2022.12.7) have no major to stay in."""
    store = AdvisoryStore(demo_db)

    class Index(PackageIndex):
        def releases(self, ecosystem: str, name: str) -> tuple[Release, ...] | None:
            return tuple(Release(v) for v in ("2017.4.17", "2021.10.8", "2022.12.7", "2023.7.22"))

    choice = VersionChooser(store, Index(offline=True)).choose(
        _component("certifi", "2017.4.17"), (), "in-place"
    )
    assert choice.version is not None and compare("PyPI", choice.version, "2017.4.17") > 0


def test_index_versions_hashes_prereleases_and_yanked(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with serve_folder(FIXTURES / "index") as base:
        monkeypatch.setenv("MAMORI_PYPI_URL", f"{base}/pypi")
        index = PackageIndex(cache_dir=tmp_path / "cache")
        chooser = VersionChooser(AdvisoryStore(demo_db), index)
        choice = chooser.choose(_component("PyYAML", "5.3"), (), "in-place")
        latest = chooser.choose(_component("pyyaml", "5.3"), (), "latest-safe")
    assert choice.source == "index"
    assert choice.version == "5.4"
    assert choice.release is not None and choice.release.hashes == ("sha256:" + "4" * 64,)
    assert latest.version == "6.0.1"  # not the pre-release 6.0b1, and 5.4.2 is yanked
    assert (tmp_path / "cache" / "PyPI" / "pyyaml.json").is_file()


def test_unreachable_index_falls_back_to_advisories(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PYPI_URL", closed_port_url())
    index = PackageIndex(timeout=2)
    choice = VersionChooser(AdvisoryStore(demo_db), index).choose(
        _component("pyyaml", "5.3"), ("5.3.1",), "in-place"
    )
    assert choice.source == "advisories" and choice.version == "5.4"
    assert index.unreachable


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["pyyaml", "jinja2", "urllib3", "requests", "werkzeug", "flask"]),
    st.sampled_from(["0.1", "1.0", "1.23", "2.0", "2.10", "2.19.1", "5.1", "5.3", "0.15.2", "0.12.2"]),
    st.sampled_from(["in-place", "latest-safe"]),
)
def test_a_chosen_version_is_newer_and_affected_by_nothing(
    demo_db: Path, name: str, version: str, strategy: str
) -> None:
    store = AdvisoryStore(demo_db)
    component = _component(name, version)
    hint = tuple(v for m in store.lookup([component]) for v in m.fixed)
    choice = VersionChooser(store, PackageIndex(offline=True)).choose(component, hint, strategy)
    if choice.version is None:
        assert choice.options
        return
    assert compare("PyPI", choice.version, version) > 0
    assert store.lookup([_component(name, choice.version)]) == []
    if strategy == "in-place" and major("PyPI", choice.version) != major("PyPI", version):
        assert choice.why.startswith("crosses a major")


@pytest.mark.skipif(
    __import__("os").environ.get("MAMORI_TEST_ONLINE") != "1",
    reason="set MAMORI_TEST_ONLINE=1 to ask the real PyPI",
)
def test_real_pypi_lists_pyyaml_releases() -> None:
    releases = PackageIndex().releases("PyPI", "PyYAML")
    assert releases is not None and any(r.version == "5.4" for r in releases)


def test_fix_project_takes_released_versions_from_the_index_while_the_database_stays_offline(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mamori.fix import fix_project

    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("# pinned\npyyaml==5.3  # parser\n")
    monkeypatch.setenv("MAMORI_HOME", str(tmp_path / "home"))
    with serve_folder(FIXTURES / "index") as base:
        monkeypatch.setenv("MAMORI_PYPI_URL", f"{base}/pypi")
        report = fix_project(
            project, database=demo_db, code=False, offline=True, index=True, strategy="latest-safe"
        )
    # no tests: the upgrade is planned but unverified, so nothing is written
    assert (project / "requirements.txt").read_text() == "# pinned\npyyaml==5.3  # parser\n"
    assert report.results and all(r.status == "unverified" for r in report.results)
    assert "pyyaml==6.0.1" in report.results[0].diff
    assert all(any("from the package index" in n for n in r.notes) for r in report.results)
