"""Behaviour of the Python lockfile parsers on real lockfiles: versions, lines, direct and dev."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mamori.inventory._python import PARSERS
from mamori.inventory.interface import Component, Parser, ParseResult
from mamori.inventory.registry import parse_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "python"


def parser(name: str) -> Parser:
    return next(p for p in PARSERS if p.name == name)


def name_lines(path: Path, table: str) -> dict[str, int]:
    """Independently of the parser: the ``name = "…"`` line right under each ``[[table]]``."""
    lines = path.read_text().splitlines()
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.strip() == f"[[{table}]]":
            match = re.fullmatch(r'name = "([^"]+)"', lines[i + 1])
            assert match, lines[i + 1]
            found.setdefault(match.group(1).lower(), i + 2)
    return found


def flags(result: ParseResult) -> dict[str, tuple[str, bool | None, bool | None]]:
    return {c.name: (c.version, c.direct, c.dev) for c in result.components}


def parse(name: str, scenario: str, filename: str) -> ParseResult:
    return parser(name).parse(FIXTURES / scenario / filename, filename)


def assert_lines(result: ParseResult, path: Path, table: str) -> None:
    expected = name_lines(path, table)
    for comp in result.components:
        assert comp.location.line == expected[comp.name], comp
        assert comp.location.path == path.name


def test_poetry_lock_categories() -> None:
    result = parse("poetry-lock", "poetry_lock_categories", "poetry.lock")
    assert flags(result) == {
        "attrs": ("20.3.0", None, True),
        "certifi": ("2020.12.5", None, False),
        "pytest": ("6.2.2", None, True),
        "jinja2": ("2.11.2", None, False),
        "markupsafe": ("1.1.1", None, False),
    }
    assert_lines(result, FIXTURES / "poetry_lock_categories" / "poetry.lock", "package")
    assert all(c.purl == f"pkg:pypi/{c.name}@{c.version}" for c in result.components)


def test_poetry_lock_graph_with_sibling_pyproject() -> None:
    result = parse("poetry-lock", "poetry_lock_graph", "poetry.lock")
    assert flags(result) == {
        "certifi": ("2024.2.2", False, False),  # transitive of requests and of the git dependency
        "iniconfig": ("2.0.0", False, True),  # only under pytest (dev group)
        "internal-tool": ("", True, False),  # git source: not a PyPI release
        "pytest": ("7.4.4", True, True),
        "requests": ("2.31.0", True, False),
    }
    assert_lines(result, FIXTURES / "poetry_lock_graph" / "poetry.lock", "package")


def test_uv_workspace() -> None:
    result = parse("uv-lock", "uv_workspace", "uv.lock")
    assert flags(result) == {
        "blinker": ("1.8.2", False, False),
        "flask": ("2.2.5", True, False),
        "iniconfig": ("2.0.0", False, True),
        "pytest": ("8.2.2", True, True),
        "pyyaml": ("5.4", True, False),  # direct dependency of the workspace member "helpers"
        "redis": ("4.5.3", True, False),  # an extra of the project
        "werkzeug": ("", False, False),  # git source
    }
    names = {c.name for c in result.components}
    assert not names & {"webapp", "helpers"}  # the workspace members are the project itself
    assert_lines(result, FIXTURES / "uv_workspace" / "uv.lock", "package")


def test_pdm_lock_groups_and_extras_entry() -> None:
    result = parse("pdm-lock", "pdm_lock", "pdm.lock")
    assert flags(result) == {
        "certifi": ("2022.12.7", False, False),
        "h2": ("4.1.0", False, False),
        "httpx": ("0.23.0", True, False),
        "pytest": ("7.1.0", True, True),
        "pluggy": ("1.0.0", False, True),
    }
    assert sum(1 for c in result.components if c.name == "httpx") == 1  # the [http2] entry merged
    assert_lines(result, FIXTURES / "pdm_lock" / "pdm.lock", "package")


def test_pylock_markers_and_local_entries() -> None:
    result = parse("pylock", "pylock_pdm", "pylock.toml")
    got = flags(result)
    assert got["pytest"] == ("8.4.2", True, True)  # marker: "dev" in dependency_groups
    assert got["typing-extensions"] == ("4.15.0", True, False)  # also in the default group
    assert got["pluggy"] == ("1.6.0", False, True)
    assert got["toolkit"][0] == ""  # a VCS checkout
    assert "h11-like" not in got  # the project's own directory entry
    assert_lines(result, FIXTURES / "pylock_pdm" / "pylock.toml", "packages")


def test_pipfile_lock_sections_and_lines() -> None:
    path = FIXTURES / "pipfile_lock" / "Pipfile.lock"
    result = parse("pipfile-lock", "pipfile_lock", "Pipfile.lock")
    got = [(c.name, c.version, c.direct, c.dev) for c in result.components]
    assert got == [
        ("certifi", "2018.4.16", False, False),
        ("django", "2.0.6", True, False),
        ("requests", "2.19.1", True, False),
        ("vendored", "", False, False),
        ("pytest", "3.6.1", True, True),
        ("certifi", "2018.4.16", False, True),
    ]
    text = path.read_text().splitlines()
    develop = next(i for i, line in enumerate(text, start=1) if '"develop"' in line)
    for comp in result.components:
        written = text[comp.location.line - 1].strip()
        assert written == f'"{comp.name}": {{', comp
        assert (comp.location.line > develop) is comp.dev


def test_invalid_toml_lock_has_the_decoder_line() -> None:
    result = parse("poetry-lock", "invalid_toml", "poetry.lock")
    assert result.components == ()
    assert [(e.path, e.line) for e in result.errors] == [("poetry.lock", 7)]


def test_invalid_json_lock_has_the_decoder_line() -> None:
    result = parse("pipfile-lock", "invalid_json", "Pipfile.lock")
    assert result.components == ()
    assert [(e.path, e.line) for e in result.errors] == [("Pipfile.lock", 4)]


@pytest.mark.parametrize(
    ("filename", "name", "body"),
    [
        ("poetry.lock", "poetry-lock", "a = " + "[" * 50_000 + "]" * 50_000 + "\n"),
        ("uv.lock", "uv-lock", "a = " + "{b = " * 50_000 + "1" + "}" * 50_000 + "\n"),
        ("Pipfile.lock", "pipfile-lock", "[" * 200_000 + "]" * 200_000),
    ],
)
def test_deep_nesting_is_an_error(tmp_path: Path, filename: str, name: str, body: str) -> None:
    path = tmp_path / filename
    path.write_text(body)
    result = parse_file(path, filename, parser(name))
    assert result.components == ()
    assert len(result.errors) == 1 and "deep" in result.errors[0].message


def test_bad_entries_are_errors_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(
        "version = 1\n\n"
        '[[package]]\nname = "good"\nversion = "1.0"\nsource = { registry = "https://pypi.org/simple" }\n\n'
        '[[package]]\nname = "not a name!"\nversion = "1.0"\n\n'
        '[[package]]\nname = "numbered"\nversion = 2\n'
    )
    result = parse_file(path, "uv.lock", parser("uv-lock"))
    assert [(c.name, c.version, c.location.line) for c in result.components] == [
        ("good", "1.0", 4),
        ("numbered", "", 13),
    ]
    assert [e.line for e in result.errors] == [9, 13]


def test_wrong_top_level_shapes(tmp_path: Path) -> None:
    lock = tmp_path / "pdm.lock"
    lock.write_text('package = "nope"\n')
    assert parse_file(lock, "pdm.lock", parser("pdm-lock")).errors[0].line == 1
    pip = tmp_path / "Pipfile.lock"
    pip.write_text('{"default": [], "develop": {"six": {"version": "==1.16.0"}}}')
    result = parse_file(pip, "Pipfile.lock", parser("pipfile-lock"))
    assert [c.name for c in result.components] == ["six"]
    assert len(result.errors) == 1


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("poetry.lock", "poetry-lock"),
        ("uv.lock", "uv-lock"),
        ("pdm.lock", "pdm-lock"),
        ("pylock.toml", "pylock"),
        ("pylock.dev.toml", "pylock"),
        ("Pipfile.lock", "pipfile-lock"),
        ("Pipfile", "pipfile"),
        ("pyproject.toml", "pyproject"),
    ],
)
def test_each_file_name_has_one_parser(filename: str, expected: str) -> None:
    assert [p.name for p in PARSERS if p.matches(Path("x") / filename)] == [expected]


def test_components_are_pypi(tmp_path: Path) -> None:
    result = parse("uv-lock", "uv_workspace", "uv.lock")
    assert all(
        isinstance(c, Component) and c.ecosystem == "PyPI" and c.source == "uv-lock"
        for c in result.components
    )
