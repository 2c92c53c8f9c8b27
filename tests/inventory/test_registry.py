"""Walking a project: what is read, what is skipped, and files too large to read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.inventory import collect


def _lock(path: Path, version: str = "4.17.15") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "name": "x",
                "lockfileVersion": 3,
                "packages": {"": {}, "node_modules/lodash": {"version": version}},
            },
            indent=2,
        )
    )


def test_installed_and_vcs_folders_are_not_walked(tmp_path: Path) -> None:
    _lock(tmp_path / "package-lock.json")
    _lock(tmp_path / "node_modules" / "dep" / "package-lock.json", "1.0.0")
    _lock(tmp_path / ".venv" / "lib" / "package-lock.json", "2.0.0")
    _lock(tmp_path / ".git" / "package-lock.json", "3.0.0")
    inv = collect(tmp_path)
    assert inv.files == ("package-lock.json",)
    assert [c.version for c in inv.components] == ["4.17.15"]


def test_a_one_gigabyte_lockfile_is_reported_not_read(tmp_path: Path) -> None:
    _lock(tmp_path / "requirements" / "package-lock.json")  # a good one beside it
    huge = tmp_path / "package-lock.json"
    with huge.open("wb") as fh:  # sparse: costs no disk, but stat() says 1 GiB
        fh.truncate(1 << 30)
    inv = collect(tmp_path)
    (error,) = inv.errors
    assert error.path == "package-lock.json"
    assert "limit" in error.message and "MAMORI_MAX_FILE_BYTES" in error.message
    assert [c.name for c in inv.components] == ["lodash"]


def test_size_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _lock(tmp_path / "package-lock.json")
    monkeypatch.setenv("MAMORI_MAX_FILE_BYTES", "10")
    assert collect(tmp_path).components == ()
    monkeypatch.setenv("MAMORI_MAX_FILE_BYTES", str(1 << 20))
    assert len(collect(tmp_path).components) == 1


def test_unknown_file_given_directly_is_an_error_not_a_crash(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    inv = collect(odd)
    (error,) = inv.errors
    assert error.path == "notes.txt"
