"""NuGet packages.lock.json: per target framework, deduplicated."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nuget"


def parse_file(path: Path, rel: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["nuget-lock"]
    return matching[0].parse(path, rel)


def test_frameworks_are_merged_and_projects_skipped() -> None:
    rel = "multi-target/packages.lock.json"
    result = parse_file(FIXTURES / rel, rel)
    assert result.errors == ()
    assert sorted((c.name, c.version, c.direct) for c in result.components) == [
        ("newtonsoft.json", "12.0.3", True),
        ("system.text.encodings.web", "4.7.1", False),
        ("system.text.encodings.web", "4.7.2", False),
    ]
    lines = (FIXTURES / rel).read_text().splitlines()
    by_version = {c.version: c for c in result.components}
    # each version points at its own framework's entry
    assert by_version["4.7.1"].location.line < by_version["4.7.2"].location.line
    for comp in result.components:
        assert lines[comp.location.line - 1].strip().lower() == f'"{comp.name}": {{'
        assert f'"resolved": "{comp.version}"' in "\n".join(
            lines[comp.location.line : comp.location.line + 4]
        )


def test_not_a_lockfile_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "packages.lock.json"
    lock.write_text('{"version": 1}')
    result = parse_file(lock, "src/packages.lock.json")
    assert result.components == ()
    assert result.errors[0].path == "src/packages.lock.json"
