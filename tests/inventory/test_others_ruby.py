"""Gemfile.lock: GEM specs by indentation, platform suffixes, DEPENDENCIES."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ruby"


def parse_file(path: Path, rel: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["gemfile-lock"]
    return matching[0].parse(path, rel)


def test_gem_specs_platforms_and_direct_dependencies() -> None:
    rel = "rails-platforms/Gemfile.lock"
    result = parse_file(FIXTURES / rel, rel)
    assert result.errors == ()
    found = {c.name: c for c in result.components}
    assert len(found) == len(result.components)  # nokogiri's two platforms are one component
    assert {(c.name, c.version) for c in result.components} == {
        ("actionpack", "7.0.4"),
        ("actionview", "7.0.4"),
        ("activesupport", "7.0.4"),
        ("concurrent-ruby", "1.1.10"),
        ("nokogiri", "1.13.3"),
        ("racc", "1.6.0"),
        ("rack", "2.2.3"),
        ("rspec-core", "3.12.0"),
    }
    assert found["nokogiri"].direct is True and found["actionpack"].direct is True
    assert found["rack"].direct is False
    assert "audit_log" not in found and "billing" not in found  # GIT and PATH gems
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        spec_line = lines[comp.location.line - 1]
        assert spec_line.startswith(f"    {comp.name} (") and not spec_line.startswith("      ")
    assert found["nokogiri"].purl == "pkg:gem/nokogiri@1.13.3"


def test_bad_spec_line_is_reported_and_rest_is_read(tmp_path: Path) -> None:
    lock = tmp_path / "Gemfile.lock"
    lock.write_text("GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 2.2.3\n    rake (13.0.6)\n")
    result = parse_file(lock, "Gemfile.lock")
    assert [(c.name, c.version) for c in result.components] == [("rake", "13.0.6")]
    assert [(e.path, e.line) for e in result.errors] == [("Gemfile.lock", 4)]
