"""Behaviour of the pyproject.toml and Pipfile parsers on real manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.inventory._python import PARSERS
from mamori.inventory.interface import Component, Parser, ParseResult

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "python"


def parser(name: str) -> Parser:
    return next(p for p in PARSERS if p.name == name)


def line_of(path: Path, needle: str, start: int = 1) -> int:
    """The 1-based line of the first line at or after ``start`` that contains ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def by_name(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


@pytest.fixture(scope="module")
def pep621() -> ParseResult:
    return parser("pyproject").parse(FIXTURES / "pyproject_pep621" / "pyproject.toml", "pyproject.toml")


def test_pep621_runtime_dependencies(pep621: ParseResult) -> None:
    found = by_name(pep621)
    assert (found["fastapi"].version, found["jinja2"].version, found["pyyaml"].version) == (
        "",
        "2.10.1",
        "5.3",
    )
    assert found["requests"].version == "2.19.1"  # extras and markers do not hide the pin
    for name in ("fastapi", "jinja2", "pyyaml", "requests"):
        assert (found[name].direct, found[name].dev) == (True, False)
    assert pep621.errors == ()


def test_optional_groups_are_neither_dev_nor_runtime(pep621: ParseResult) -> None:
    found = by_name(pep621)
    assert (found["psycopg2-binary"].version, found["psycopg2-binary"].dev) == ("2.8.6", None)
    assert found["sphinx"].dev is None


def test_dependency_groups_and_pdm_dev_are_dev(pep621: ParseResult) -> None:
    found = by_name(pep621)
    assert (found["pytest"].version, found["pytest"].dev) == ("6.2.4", True)
    assert found["ruff"].dev is True
    assert (found["black"].version, found["black"].dev) == ("22.3.0", True)
    assert "local-plugin" not in found  # PDM editable path: skipped


def test_build_requirements_are_not_dependencies(pep621: ParseResult) -> None:
    assert "setuptools" not in by_name(pep621)


def test_pep621_lines(pep621: ParseResult) -> None:
    path = FIXTURES / "pyproject_pep621" / "pyproject.toml"
    spelled = {"jinja2": '"Jinja2', "pyyaml": "'PyYAML", "requests": '"requests[', "fastapi": '"fastapi'}
    for comp in pep621.components:
        assert comp.location.line == line_of(path, spelled.get(comp.name, f'"{comp.name}')), comp
    # "pytest==6.2.4" sits below "[dependency-groups]", not in another table
    assert by_name(pep621)["pytest"].location.line > line_of(path, "[dependency-groups]")


def test_poetry_manifest() -> None:
    path = FIXTURES / "pyproject_poetry" / "pyproject.toml"
    result = parser("pyproject").parse(path, "pyproject.toml")
    found = by_name(result)
    assert "python" not in found
    assert (found["django"].version, found["django"].dev) == ("3.1.0", False)  # bare version = exact
    assert found["pillow"].version == "8.0.1"
    assert found["requests"].version == ""  # caret range
    assert found["mylib"].version == ""  # git source
    assert found["urllib3"].location.line == line_of(path, "[tool.poetry.dependencies.urllib3]")
    assert (found["pytest"].version, found["pytest"].dev) == ("6.2.2", True)
    assert (found["mkdocs"].version, found["mkdocs"].dev) == ("", True)
    for comp in result.components:
        assert comp.direct is True and comp.source == "pyproject"
        if comp.name != "urllib3":
            written = "Pillow" if comp.name == "pillow" else comp.name
            assert comp.location.line == line_of(path, f"{written} ="), comp


def test_pipfile() -> None:
    path = FIXTURES / "pipfile_lock" / "Pipfile"
    result = parser("pipfile").parse(path, "Pipfile")
    found = by_name(result)
    assert (found["requests"].version, found["requests"].dev) == ("2.19.1", False)
    assert found["django"].version == ""
    assert (found["pytest"].version, found["pytest"].dev) == ("", True)
    assert found["pytest"].location.line == line_of(path, "pytest")


def test_invalid_requirement_in_pyproject(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\ndependencies = [\n  "ok==1.0",\n  "bad ===",\n  "fine",\n]\n')
    result = parser("pyproject").parse(path, "pyproject.toml")
    assert [c.name for c in result.components] == ["ok", "fine"]
    assert [(e.path, e.line) for e in result.errors] == [("pyproject.toml", 5)]


def test_wrong_shape_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\ndependencies = "requests"\n[tool.poetry]\ndependencies = 3\n')
    result = parser("pyproject").parse(path, "pyproject.toml")
    assert result.components == ()
    assert [(e.line, "list" in e.message) for e in result.errors] == [(3, True)]


def test_invalid_toml_has_the_decoder_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\ndependencies = ["a",\n\n"b" "c"]\n')
    result = parser("pyproject").parse(path, "pyproject.toml")
    assert result.components == ()
    assert len(result.errors) == 1 and result.errors[0].line == 5
