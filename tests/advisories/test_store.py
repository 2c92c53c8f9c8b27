"""The advisory store: import, replacement by ``modified``, errors, atomicity, status, lookup."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.advisories.osv import load_yaml
from mamori.advisories.store import SCHEMA_VERSION, AdvisoryStore, Limits
from mamori.errors import InputError, NoDatabaseError
from mamori.inventory.interface import Component
from mamori.model import Location

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OSV = FIXTURES / "osv"
SRC = Path(__file__).resolve().parents[2] / "src"


def _component(ecosystem: str, name: str, version: str) -> Component:
    return Component(ecosystem, name, version, Location("requirements.txt", 1))


def _pypa_dirs(shared_data: Path, count: int) -> list[Path]:
    return sorted(p for p in (shared_data / "pypa-advisory-db" / "vulns").iterdir() if p.is_dir())[:count]


class Recorder:
    """A progress sink that records calls, and can raise on the n-th ``advance``."""

    def __init__(self, fail_at: int | None = None, exc: BaseException | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.advanced = 0
        self.fail_at = fail_at
        self.exc = exc or RuntimeError("progress callback failed")

    def start(self, description: str, total: int | None) -> None:
        self.calls.append(("start", total))

    def advance(self, n: int) -> None:
        self.advanced += n
        if self.fail_at is not None and self.advanced >= self.fail_at:
            raise self.exc

    def finish(self) -> None:
        self.calls.append(("finish", self.advanced))


def _zip(path: Path, members: dict[str, bytes], level: int = 6) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_fixture_folder_imports_good_records_and_reports_bad_ones(tmp_path: Path) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = store.import_paths([OSV])
    errors = {Path(e.path).name: e for e in summary.errors}
    assert set(errors) == {
        "broken_json_line4.json",
        "broken_yaml_line3.yaml",
        "alias_bomb.yaml",
        "no_id.json",
        "osv_api_batch.json",
    }
    assert errors["broken_json_line4.json"].line == 4
    assert errors["broken_yaml_line3.yaml"].line >= 3
    assert "record 2" in errors["osv_api_batch.json"].message
    for good in ("GHSA-h5c8-rqwp-cp95", "OSV-2024-0001", "DSA-5412-1", "GHSA-wdrn-0000-0001"):
        assert store.get(good) is not None, good
    assert store.get("MAMORI-BATCH-1") is not None and store.get("MAMORI-BATCH-3") is not None
    assert store.get("MAMORI-TEST-0001").summary == "the newer revision"  # type: ignore[union-attr]
    status = store.status()
    # record_newer.yml sorts first; the older revision of the same id is a repeat, kept out, and
    # the advisory is counted once (it was not in the database before: new, not "kept")
    assert summary.unchanged == 0 and summary.duplicates == 1 and summary.duplicate_ids == 1
    assert summary.new == summary.advisories == summary.records - summary.duplicates
    assert status.advisories == summary.advisories
    assert status.withdrawn == summary.withdrawn == 1
    assert set(status.ecosystems) == {"PyPI", "Go", "crates.io", "Debian", "npm"}
    assert store.ecosystems() == sorted(status.ecosystems)
    assert status.schema_version == SCHEMA_VERSION


def test_a_later_modified_replaces_an_older_record_but_not_the_reverse(tmp_path: Path) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths([OSV / "record_older.yaml"])
    assert store.get("MAMORI-TEST-0001").summary == "the older revision"  # type: ignore[union-attr]
    assert store.resolve_alias("CVE-2020-25032") == []
    first = store.import_paths([OSV / "record_newer.yml"])
    assert (first.advisories, first.unchanged) == (1, 0)
    assert store.get("MAMORI-TEST-0001").summary == "the newer revision"  # type: ignore[union-attr]
    assert store.resolve_alias("CVE-2020-25032") == ["MAMORI-TEST-0001"]
    back = store.import_paths([OSV / "record_older.yaml"])
    assert (back.advisories, back.unchanged) == (0, 1)
    assert store.get("MAMORI-TEST-0001").summary == "the newer revision"  # type: ignore[union-attr]
    assert store.status().advisories == 1


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=6), st.randoms())
def test_the_latest_revision_wins_in_any_import_order(
    tmp_path_factory: pytest.TempPathFactory, stamps: list[int], rnd: object
) -> None:
    folder = tmp_path_factory.mktemp("revisions")
    files = []
    for i, stamp in enumerate(stamps):
        from datetime import UTC, datetime

        modified = datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")
        path = folder / f"rev{i}.json"
        path.write_text(json.dumps({"id": "REV-1", "modified": modified, "summary": str(stamp)}))
        files.append(path)
    rnd.shuffle(files)  # type: ignore[attr-defined]
    store = AdvisoryStore(folder / "db.sqlite")
    store.import_paths(files)
    assert store.get("REV-1").summary == str(max(stamps))  # type: ignore[union-attr]


def test_real_pypa_folders_import_with_aliases(tmp_path: Path, shared_data: Path) -> None:
    dirs = _pypa_dirs(shared_data, 60)
    files = [p for d in dirs for p in d.rglob("*.yaml")]
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = store.import_paths(dirs)
    assert summary.errors == ()
    assert summary.advisories == len(files) == store.status().advisories
    sample = load_yaml(files[len(files) // 2].read_bytes(), "x")
    stored = store.get(sample["id"])
    assert stored is not None and list(stored.aliases) == [a for a in sample.get("aliases", [])]
    for alias in sample.get("aliases", []):
        assert sample["id"] in store.resolve_alias(alias)
    assert store.status().ecosystems == {"PyPI": len(files)}


def test_osv_all_zip_is_imported_and_bombs_refused(tmp_path: Path, shared_data: Path) -> None:
    files = [p for d in _pypa_dirs(shared_data, 20) for p in d.rglob("*.yaml")]
    members = {f"{p.stem}.json": json.dumps(load_yaml(p.read_bytes(), str(p))).encode() for p in files}
    good = _zip(tmp_path / "all.zip", {**members, "README.txt": b"not json", "bad.json": b"{\n\n]"})
    ratio_bomb = _zip(tmp_path / "ratio.zip", {"big.json": b" " * (8 * 1024 * 1024)}, level=9)
    many = _zip(tmp_path / "many.zip", {f"{i}.json": b"{}" for i in range(len(members) + 3)})
    store = AdvisoryStore(tmp_path / "db.sqlite", limits=Limits(max_zip_entries=len(members) + 2))
    summary = store.import_paths([good, ratio_bomb, many])
    assert summary.advisories == len(members)
    by_path = {e.path: e for e in summary.errors}
    assert by_path[f"{good}!bad.json"].line == 3
    assert "zip bomb" in by_path[str(ratio_bomb)].message
    assert "entries" in by_path[str(many)].message
    assert store.status().advisories == len(members)


def test_oversized_zip_members_are_refused_one_by_one(tmp_path: Path) -> None:
    big = json.dumps({"id": "BIG-1", "details": "x" * 5000}).encode()
    small = json.dumps({"id": "SMALL-1"}).encode()
    archive = _zip(tmp_path / "all.zip", {"big.json": big, "small.json": small}, level=0)
    store = AdvisoryStore(tmp_path / "db.sqlite", limits=Limits(max_file_bytes=4096))
    summary = store.import_paths([archive])
    assert store.get("SMALL-1") is not None and store.get("BIG-1") is None
    assert [e.path for e in summary.errors] == [f"{archive}!big.json"]
    total = _zip(tmp_path / "total.zip", {"a.json": small, "b.json": small})
    summary = AdvisoryStore(
        tmp_path / "db2.sqlite", limits=Limits(max_zip_total_bytes=len(small))
    ).import_paths([total])
    assert "inflate" in summary.errors[0].message and summary.advisories == 0


def test_missing_paths_and_unknown_types_are_errors(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = store.import_paths([tmp_path / "nowhere", odd, OSV / "withdrawn_record.json"])
    assert [Path(e.path).name for e in summary.errors] == ["nowhere", "notes.txt"]
    assert summary.advisories == 1


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_interrupted_import_leaves_the_database_whole(
    tmp_path: Path, shared_data: Path, exc: BaseException
) -> None:
    db = tmp_path / "db.sqlite"
    store = AdvisoryStore(db)
    store.import_paths([OSV / "ghsa_full_fields.json"])
    before = db.read_bytes()
    with pytest.raises(type(exc)):
        store.import_paths(_pypa_dirs(shared_data, 10), progress=Recorder(fail_at=5, exc=exc))
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]
    assert store.status().advisories == 1


def test_a_killed_import_leaves_the_database_whole(tmp_path: Path, shared_data: Path) -> None:
    db = tmp_path / "db.sqlite"
    AdvisoryStore(db).import_paths([OSV / "ghsa_full_fields.json"])
    before = db.read_bytes()
    script = (
        "import os, signal, sys\n"
        "from mamori.advisories.store import AdvisoryStore\n"
        "class P:\n"
        "    n = 0\n"
        "    def start(self, d, t): pass\n"
        "    def finish(self): pass\n"
        "    def advance(self, k):\n"
        "        P.n += k\n"
        "        if P.n == 20: os.kill(os.getpid(), signal.SIGKILL)\n"
        "AdvisoryStore(sys.argv[1]).import_paths(sys.argv[2:], progress=P())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    dirs = [str(d) for d in _pypa_dirs(shared_data, 15)]
    proc = subprocess.run([sys.executable, "-c", script, str(db), *dirs], env=env, check=False)
    assert proc.returncode != 0
    assert db.read_bytes() == before
    assert AdvisoryStore(db).status().advisories == 1
    (leftover,) = [p for p in tmp_path.iterdir() if p.name != "db.sqlite"]
    # a copy named with a live process's pid could belong to a running import: it stays
    alive = leftover.with_name(f".db.sqlite.{os.getpid()}-{leftover.name.split('-', 1)[1]}")
    leftover.rename(alive)
    AdvisoryStore(db).import_paths([OSV / "withdrawn_record.json"])
    assert alive.exists()
    # unless it is older than any import could be
    os.utime(alive, (0, 0))
    AdvisoryStore(db).import_paths([OSV / "withdrawn_record.json"])
    assert not alive.exists()
    # the killed run's own copy (its pid is gone) is removed by the next import straight away
    alive.with_name(leftover.name).write_bytes(b"partial")
    AdvisoryStore(db).import_paths([OSV / "withdrawn_record.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["db.sqlite"]


def test_reading_without_a_database(tmp_path: Path) -> None:
    store = AdvisoryStore(tmp_path / "none.sqlite")
    assert not store.exists
    assert store.status().exists is False and store.last_updated() is None and store.ecosystems() == []
    with pytest.raises(NoDatabaseError, match="db update"):
        store.lookup([_component("PyPI", "jinja2", "2.10")])
    with pytest.raises(NoDatabaseError):
        store.get("GHSA-h5c8-rqwp-cp95")
    assert not (tmp_path / "none.sqlite").exists()


def test_a_file_that_is_not_a_database_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    path.write_text("this is not sqlite " * 100)
    store = AdvisoryStore(path)
    with pytest.raises(InputError, match="not a mamori advisory database"):
        store.get("X")
    with pytest.raises(InputError):
        store.import_paths([OSV / "ghsa_full_fields.json"])
    assert path.read_text().startswith("this is not sqlite")


def test_another_schema_version_is_rebuilt_on_import(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE advisories (id TEXT)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    store = AdvisoryStore(path)
    with pytest.raises(NoDatabaseError, match="schema 99"):
        store.get("X")
    store.import_paths([OSV / "debian_release_suffix.json"])
    assert store.status().schema_version == SCHEMA_VERSION
    assert store.get("DSA-5412-1") is not None


def test_status_reports_sources_and_age(tmp_path: Path) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths([OSV / "ghsa_full_fields.json", FIXTURES / "epss" / "epss_scores_sample.csv"])
    status = store.status()
    names = {s.source for s in status.sources}
    assert names == {"osv/PyPI", "osv/Go", "osv/crates.io", "epss"}
    assert status.last_updated == store.last_updated()
    assert status.age is not None and status.age.total_seconds() >= 0
    assert status.ecosystems == {"PyPI": 1, "Go": 1, "crates.io": 1}


def test_progress_is_reported(tmp_path: Path) -> None:
    rec = Recorder()
    files = [OSV / "record_older.yaml", OSV / "debian_release_suffix.json"]
    AdvisoryStore(tmp_path / "db.sqlite").import_paths(files, progress=rec)
    assert rec.calls == [("start", 2), ("finish", 2)]


# --------------------------------------------------------------------------- lookup


@pytest.fixture
def ranges() -> object:
    return pytest.importorskip("mamori.advisories.ranges")


def test_lookup_matches_names_versions_and_fixed(tmp_path: Path, ranges: object) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths([OSV])
    old = _component("PyPI", "Jinja2", "2.10")
    new = _component("PyPI", "jinja2", "2.10.1")
    unpinned = _component("PyPI", "jinja2", "")
    deb = _component("Debian", "libfoo", "1.4-1")
    matches = store.lookup([old, new, unpinned, deb])
    got = [(m.component, m.advisory.id, m.fixed) for m in matches]
    assert (old, "GHSA-h5c8-rqwp-cp95", ("2.10.1",)) in got
    assert all(m.component is not new or m.advisory.id != "GHSA-h5c8-rqwp-cp95" for m in matches)
    assert all(m.component is not unpinned for m in matches)
    assert (deb, "DSA-5412-1", ("1.4-1+deb12u1",)) in got
    assert all(m.advisory.id != "GHSA-wdrn-0000-0001" for m in matches)  # withdrawn
    assert store.get("GHSA-wdrn-0000-0001") is not None


def test_lookup_agrees_with_the_listed_versions_of_real_advisories(
    tmp_path: Path, shared_data: Path, ranges: object
) -> None:
    dirs = _pypa_dirs(shared_data, 80)
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths(dirs)
    expected: set[tuple[str, str, str]] = set()
    components = []
    for path in sorted(p for d in dirs for p in d.rglob("*.yaml"))[::3]:
        record = load_yaml(path.read_bytes(), str(path))
        if record.get("withdrawn"):
            continue
        for aff in record.get("affected", []):
            for version in aff.get("versions", [])[-2:]:
                components.append(_component("PyPI", aff["package"]["name"], version))
                expected.add((record["id"], aff["package"]["name"].lower(), version))
    matches = store.lookup(components)
    found = {(m.advisory.id, m.component.name.lower(), m.component.version) for m in matches}
    assert expected <= found
