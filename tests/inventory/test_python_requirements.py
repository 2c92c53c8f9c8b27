"""Behaviour of the pip requirements parser on real requirements files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.inventory._python import PARSERS
from mamori.inventory.interface import Component, ParseResult
from mamori.inventory.registry import parse_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "python"
REQUIREMENTS = next(p for p in PARSERS if p.name == "requirements")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def by_name(result: ParseResult) -> dict[str, Component]:
    return {c.name: c for c in result.components}


@pytest.fixture(scope="module")
def includes() -> ParseResult:
    return REQUIREMENTS.parse(FIXTURES / "requirements_includes" / "requirements.txt", "requirements.txt")


def test_pins_give_versions_and_ranges_give_empty(includes: ParseResult) -> None:
    found = by_name(includes)
    assert found["django"].version == "3.2.4"
    assert found["jinja2"].version == "2.10"  # === arbitrary equality, extras ignored
    assert found["zope-interface"].version == "5.4.0"  # PEP 503 name
    assert found["pyyaml"].purl == "pkg:pypi/pyyaml@5.3.1"
    ranged = [
        c for c in includes.components if c.location.path == "requirements.txt" and c.name == "requests"
    ]
    assert len(ranged) == 1 and ranged[0].version == "" and ranged[0].purl == "pkg:pypi/requests"
    assert all(c.ecosystem == "PyPI" and c.source == "requirements" for c in includes.components)


def test_marker_for_another_platform_is_still_reported(includes: ParseResult) -> None:
    assert by_name(includes)["pywin32"].version == "306"


def test_continuation_lines_report_the_first_physical_line(includes: ParseResult) -> None:
    path = FIXTURES / "requirements_includes" / "requirements.txt"
    assert by_name(includes)["django"].location.line == line_of(path, "Django==3.2.4")


def test_every_line_is_the_declaring_line(includes: ParseResult) -> None:
    root = FIXTURES / "requirements_includes"
    spelled = {
        "django": "Django==",
        "jinja2": "Jinja2[",
        "zope-interface": "zope.interface",
        "pyyaml": "pyyaml",
    }
    for comp in includes.components:
        needle = spelled.get(comp.name, comp.name)
        assert comp.location.line == line_of(root / comp.location.path, needle), comp


def test_includes_and_constraints_keep_their_own_path(includes: ParseResult) -> None:
    paths = {c.name: c.location.path for c in includes.components if c.version}
    assert paths["certifi"] == "requirements/base.txt"
    assert paths["idna"] == "requirements/base.txt"  # "idna == 2.10": spaces around the operator
    assert paths["requests"] == "constraints.txt"


def test_include_cycle_is_an_error_not_a_loop(includes: ParseResult) -> None:
    base = FIXTURES / "requirements_includes" / "requirements" / "base.txt"
    cycles = [e for e in includes.errors if "cycle" in e.message]
    assert len(cycles) == 1
    assert cycles[0].path == "requirements/base.txt"
    assert cycles[0].line == line_of(base, "--requirement")
    # the including file was not read twice
    assert sum(1 for c in includes.components if c.name == "django") == 1


def test_editable_vcs_and_url_requirements(includes: ParseResult) -> None:
    found = by_name(includes)
    assert found["click"].version == ""  # -e git+…#egg=click: name known, version not a release
    assert found["urllib3"].version == "1.26.5"  # from the wheel file name of a direct URL
    assert found["six"].version == "1.16.0"  # bare sdist URL
    # "-e ." and "./local/project" have no knowable name: skipped without an error
    assert not any("local" in e.message or "-e" in e.message for e in includes.errors)


def test_broken_line_is_an_error_with_its_line_and_the_rest_is_read(includes: ParseResult) -> None:
    path = FIXTURES / "requirements_includes" / "requirements.txt"
    invalid = [e for e in includes.errors if "invalid requirement" in e.message]
    assert [(e.path, e.line) for e in invalid] == [("requirements.txt", line_of(path, "this is not"))]
    assert "pyyaml" in by_name(includes)  # the line after the broken one


def test_broken_file_reports_each_bad_line() -> None:
    path = FIXTURES / "requirements_broken" / "requirements.txt"
    result = REQUIREMENTS.parse(path, "requirements.txt")
    assert {c.name for c in result.components} == {"lxml", "cryptography"}
    assert sorted(e.line for e in result.errors) == [line_of(path, "numpy"), line_of(path, "pillow")]


def test_cycle_and_missing_include() -> None:
    root = FIXTURES / "requirements_cycle"
    result = REQUIREMENTS.parse(root / "requirements-a.txt", "requirements-a.txt")
    assert {(c.name, c.location.path) for c in result.components} == {
        ("flask", "requirements-a.txt"),
        ("werkzeug", "b.txt"),
    }
    messages = {e.message.split(":")[0]: (e.path, e.line) for e in result.errors}
    assert messages["include cycle"] == ("b.txt", line_of(root / "b.txt", "requirements-a.txt"))
    assert messages["included file not found"] == ("b.txt", line_of(root / "b.txt", "missing.txt"))


def test_comments_options_and_continuations(tmp_path: Path) -> None:
    path = tmp_path / "requirements-dev.txt"
    path.write_text(
        "--require-hashes\n"
        "# flask==1.0 is commented out\n"
        "-i https://example.invalid/simple\n"
        "black==22.3.0  # a comment after whitespace\n"
        "mypy\\\n"
        "==0.910\n"
        "-rother.txt\n"
    )
    (tmp_path / "other.txt").write_text("attrs==21.2.0\n")
    result = REQUIREMENTS.parse(path, "requirements-dev.txt")
    got = {(c.name, c.version, c.location.path, c.location.line) for c in result.components}
    assert ("mypy", "0.910", "requirements-dev.txt", 5) in got
    assert ("attrs", "21.2.0", "other.txt", 1) in got
    assert not any(c.name == "flask" for c in result.components)
    black = [c for c in result.components if c.name == "black"]
    assert len(black) == 1 and black[0].location.line == 4
    assert result.errors == ()


def test_remote_include_is_not_fetched(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("-r https://example.invalid/requirements.txt\nsix==1.16.0\n")
    result = REQUIREMENTS.parse(path, "requirements.txt")
    assert [c.name for c in result.components] == ["six"]
    assert result.errors[0].line == 1 and "remote" in result.errors[0].message


def test_not_utf8_through_the_registry(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"six==1.16.0\n\xff\xfe\x00bad\n")
    result = parse_file(path, "requirements.txt", REQUIREMENTS)
    assert result.errors and result.errors[0].path == "requirements.txt"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("requirements_test.txt", True),
        ("constraints.txt", True),
        ("requirements/prod.txt", True),
        ("requirements.in", False),
        ("notes.txt", False),
        ("docs/requirements.md", False),
    ],
)
def test_matches(name: str, expected: bool) -> None:
    assert REQUIREMENTS.matches(Path("project") / name) is expected
