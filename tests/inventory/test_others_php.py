"""composer.lock: packages and packages-dev."""

from __future__ import annotations

from pathlib import Path

from mamori.inventory._others import PARSERS
from mamori.inventory.interface import ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "composer"


def parse_file(path: Path, rel: str) -> ParseResult:
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["composer-lock"]
    return matching[0].parse(path, rel)


def test_packages_dev_flags_versions_as_written_and_direct() -> None:
    rel = "laravel/composer.lock"
    result = parse_file(FIXTURES / rel, rel)
    assert result.errors == ()
    found = {c.name: c for c in result.components}
    assert {(c.name, c.version, c.dev) for c in result.components} == {
        ("guzzlehttp/guzzle", "7.4.4", False),
        ("guzzlehttp/psr7", "2.4.0", False),
        ("laravel/framework", "v9.19.0", False),
        ("phpunit/phpunit", "9.5.20", True),
        ("sebastian/diff", "4.0.4", True),
    }
    assert found["laravel/framework"].direct is True  # composer.json spells it Laravel/Framework
    assert found["guzzlehttp/psr7"].direct is False
    assert found["phpunit/phpunit"].direct is True
    assert found["guzzlehttp/guzzle"].purl == "pkg:composer/guzzlehttp/guzzle@7.4.4"
    lines = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        assert lines[comp.location.line - 1].strip() == f'"name": "{comp.name}",'


def test_without_composer_json_direct_is_unknown(tmp_path: Path) -> None:
    lock = tmp_path / "composer.lock"
    lock.write_text('{"packages": [{"name": "monolog/monolog", "version": "2.3.5"}], "packages-dev": []}')
    result = parse_file(lock, "composer.lock")
    assert [(c.name, c.direct, c.location.line) for c in result.components] == [("monolog/monolog", None, 1)]


def test_entry_without_version_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "composer.lock"
    lock.write_text('{\n  "packages": [\n    {\n      "name": "a/b"\n    }\n  ]\n}\n')
    result = parse_file(lock, "composer.lock")
    assert result.components == ()
    assert [(e.path, e.line) for e in result.errors] == [("composer.lock", 4)]
