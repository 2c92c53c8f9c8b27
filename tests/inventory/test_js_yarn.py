"""yarn.lock, classic (v1) and Berry (v2+)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mamori.inventory._javascript import PARSERS, _split_spec
from mamori.inventory.interface import Component, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "yarn"


def parse(rel: str) -> ParseResult:
    path = FIXTURES / rel
    matching = [p for p in PARSERS if p.matches(path)]
    assert [p.name for p in matching] == ["yarn-lock"]
    return matching[0].parse(path, rel)


def by_name(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


def test_classic_entries_versions_and_lines() -> None:
    rel = "classic/yarn.lock"
    result = parse(rel)
    assert result.errors == ()
    comps = by_name(result)
    assert {(c.name, c.version) for c in result.components} == {
        ("@babel/code-frame", "7.12.13"),
        ("@babel/highlight", "7.13.10"),
        ("eslint-config-custom", ""),  # a git dependency: no registry version to match
        ("lodash", "4.17.19"),
        ("strip-ansi", "6.0.1"),  # the alias strip-ansi-cjs names the real package
    }
    text = (FIXTURES / rel).read_text().splitlines()
    for comp in result.components:
        header = text[comp.location.line - 1]
        assert not header.startswith(" ") and header.endswith(":")
    assert text[comps["lodash"].location.line - 1] == "lodash@^4.17.19:"


def test_classic_direct_and_dev_come_from_package_json() -> None:
    comps = by_name(parse("classic/yarn.lock"))
    assert comps["@babel/code-frame"].direct is True
    assert comps["@babel/code-frame"].dev is False
    assert comps["@babel/highlight"].direct is False
    assert comps["strip-ansi"].direct is True
    assert comps["eslint-config-custom"].dev is True


def test_classic_skips_file_dependencies() -> None:
    assert "my-lib" not in by_name(parse("classic/yarn.lock"))


def test_berry_resolutions_skip_workspaces_and_patches() -> None:
    rel = "berry/yarn.lock"
    result = parse(rel)
    assert result.errors == ()
    assert sorted((c.name, c.version) for c in result.components) == [
        ("axios", "0.21.1"),
        ("follow-redirects", "1.14.7"),
        ("typescript", "5.2.2"),
    ]
    comps = by_name(result)
    assert comps["typescript"].dev is True and comps["typescript"].direct is True
    assert comps["follow-redirects"].direct is False
    text = (FIXTURES / rel).read_text().splitlines()
    assert text[comps["axios"].location.line - 1] == '"axios@npm:^0.21.1":'


def test_classic_entry_without_version_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "yarn.lock"
    lock.write_text(
        '# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  resolved "https://x/left-pad.tgz"\n\nms@2.1.2:\n  version "2.1.2"\n'
    )
    result = PARSERS[1].parse(lock, "yarn.lock")
    assert [(c.name, c.version) for c in result.components] == [("ms", "2.1.2")]
    assert [(e.path, e.line) for e in result.errors] == [("yarn.lock", 4)]


_NAME = st.from_regex(r"(@[a-z][a-z0-9-]{0,8}/)?[a-z][a-z0-9._-]{0,12}", fullmatch=True)
_RANGE = st.from_regex(r"[\^~]?[0-9]{1,3}(\.[0-9]{1,3}){0,2}|npm:[a-z]{1,8}@\^1\.0\.0", fullmatch=True)


@given(_NAME, _RANGE)
def test_split_spec_inverts_joining(name: str, rng: str) -> None:
    assert _split_spec(f"{name}@{rng}") == (name, rng)
