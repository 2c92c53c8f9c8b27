"""Cargo.lock versions 1 to 4."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cargo"


def parse_file(path: Path, rel: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["cargo-lock"]
    return matching[0].parse(path, rel)


def test_workspace_members_are_skipped_and_their_deps_are_direct() -> None:
    rel = "v3-workspace/Cargo.lock"
    result = parse_file(FIXTURES / rel, rel)
    assert result.errors == ()
    found = {(c.name, c.version): c for c in result.components}
    assert set(found) == {
        ("cfg-if", "1.0.0"),
        ("regex", "1.5.4"),
        ("smallvec", ""),  # a git source: no registry version
        ("time", "0.1.43"),
        ("time", "0.3.17"),
    }
    assert found[("regex", "1.5.4")].direct is True
    assert found[("time", "0.1.43")].direct is True  # "time 0.1.43" names this version
    assert found[("time", "0.3.17")].direct is False
    assert all(c.ecosystem == "crates.io" and c.source == "cargo-lock" for c in found.values())
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1] == "[[package]]"
        assert lines[comp.location.line] == f'name = "{comp.name}"'


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("v1-metadata/Cargo.lock", [("libc", "0.2.40", True)]),
        ("v4/Cargo.lock", [("hashbrown", "0.15.2", True)]),
    ],
)
def test_old_and_new_lockfile_versions(rel: str, expected: list[tuple[str, str, bool]]) -> None:
    result = parse_file(FIXTURES / rel, rel)
    assert [(c.name, c.version, c.direct) for c in result.components] == expected
    assert result.components[0].purl == f"pkg:cargo/{expected[0][0]}@{expected[0][1]}"


def test_invalid_toml_reports_its_line(tmp_path: Path) -> None:
    lock = tmp_path / "Cargo.lock"
    lock.write_text('version = 3\n\n[[package]]\nname = "a"\nversion = 1.0.0"\n')
    result = parse_file(lock, "Cargo.lock")
    assert result.components == ()
    assert (result.errors[0].path, result.errors[0].line) == ("Cargo.lock", 5)
