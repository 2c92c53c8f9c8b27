"""package-lock.json (v1, v2, v3) and npm-shrinkwrap.json on realistic lockfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.inventory._javascript import PARSERS
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "npm"


def parse(rel: str) -> ParseResult:
    path = FIXTURES / rel
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["package-lock"]
    return matching[0].parse(path, rel)


def by_key(result: ParseResult) -> dict[tuple[str, str], Component]:
    return {(c.name, c.version): c for c in result.components}


def line_text(rel: str, comp: Component) -> str:
    return (FIXTURES / rel).read_text().splitlines()[comp.location.line - 1]


def test_v3_reads_installed_packages_with_flags() -> None:
    rel = "lock-v3-workspace/package-lock.json"
    result = parse(rel)
    assert result.errors == ()
    comps = by_key(result)
    assert set(comps) == {
        ("express", "4.17.1"),
        ("qs", "6.7.0"),
        ("qs", "6.11.0"),
        ("lodash", "4.17.20"),
        ("jest", "29.7.0"),
        ("@babel/core", "7.23.0"),
        ("fsevents", "2.3.3"),
        ("react", "18.2.0"),
    }
    assert comps[("express", "4.17.1")].direct is True
    assert comps[("qs", "6.7.0")].direct is False  # nested under express/node_modules
    assert comps[("jest", "29.7.0")].dev is True and comps[("jest", "29.7.0")].direct is True
    assert comps[("@babel/core", "7.23.0")].direct is False
    assert comps[("express", "4.17.1")].dev is False
    assert comps[("@babel/core", "7.23.0")].purl == "pkg:npm/%40babel/core@7.23.0"
    assert all(c.source == "package-lock" and c.ecosystem == "npm" for c in comps.values())


def test_v3_alias_is_reported_under_its_real_name() -> None:
    comps = by_key(parse("lock-v3-workspace/package-lock.json"))
    assert ("my-lodash", "4.17.20") not in comps
    assert comps[("lodash", "4.17.20")].direct is True


def test_v3_workspace_links_are_skipped_and_workspace_deps_are_direct() -> None:
    comps = by_key(parse("lock-v3-workspace/package-lock.json"))
    assert not any(name == "@shop/ui" for name, _ in comps)
    assert comps[("react", "18.2.0")].direct is True  # declared by packages/ui


def test_lines_point_at_the_package_key() -> None:
    rel = "lock-v3-workspace/package-lock.json"
    result = parse(rel)
    comps = by_key(result)
    assert line_text(rel, comps[("qs", "6.7.0")]).strip() == '"node_modules/express/node_modules/qs": {'
    assert line_text(rel, comps[("qs", "6.11.0")]).strip() == '"node_modules/qs": {'
    for comp in result.components:
        assert comp.location.path == rel
        assert '"node_modules/' in line_text(rel, comp)


@pytest.mark.parametrize("rel", ["lock-v2/package-lock.json", "shrinkwrap/npm-shrinkwrap.json"])
def test_v2_uses_packages_not_legacy_dependencies(rel: str) -> None:
    result = parse(rel)
    assert len(result.components) == 3  # not doubled by the v1 "dependencies" section
    comps = by_key(result)
    assert comps[("minimist", "1.2.5")].direct is True
    assert comps[("minimist", "1.2.5")].dev is False
    assert comps[("minimist", "1.2.0")].direct is False
    assert comps[("minimist", "1.2.0")].dev is True
    assert (
        line_text(rel, comps[("minimist", "1.2.0")])
        .strip()
        .startswith('"node_modules/mocha/node_modules/minimist"')
    )


def test_v1_nested_dependencies_and_root_manifest() -> None:
    rel = "lock-v1/package-lock.json"
    result = parse(rel)
    comps = by_key(result)
    assert set(comps) == {
        ("left-pad", "1.3.0"),
        ("lodash", "4.17.15"),
        ("mocha", "5.2.0"),
        ("minimist", "0.0.8"),
        ("string-width", "4.2.3"),
    }
    assert comps[("lodash", "4.17.15")].direct is True  # from package.json beside it
    assert comps[("minimist", "0.0.8")].direct is False
    assert comps[("minimist", "0.0.8")].dev is True
    assert comps[("mocha", "5.2.0")].dev is True
    nested = comps[("minimist", "0.0.8")]
    assert line_text(rel, nested).strip() == '"minimist": {'
    assert line_text(rel, comps[("string-width", "4.2.3")]).strip() == '"string-width-cjs": {'


def test_v1_without_package_json_leaves_direct_unknown(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text((FIXTURES / "lock-v1" / "package-lock.json").read_text())
    result = PARSERS[0].parse(lock, "package-lock.json")
    top = by_key(result)[("lodash", "4.17.15")]
    assert top.direct is None
    assert by_key(result)[("minimist", "0.0.8")].direct is False


def test_broken_lockfile_is_an_error_with_line(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{\n  "lockfileVersion": 3,\n  "packages": {\n    "node_modules/a": {"version": 1.0.0}\n')
    result = PARSERS[0].parse(lock, "web/package-lock.json")
    assert result.components == ()
    (error,) = result.errors
    assert error.path == "web/package-lock.json"
    assert error.line == 4
