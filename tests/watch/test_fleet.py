"""The fleet file: `mamori watch add` edits it keeping comments; bad values are named with file and line."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mamori.cli import app
from mamori.errors import InputError
from mamori.watch.feeds.osv import parse_index_line
from mamori.watch.fleet import add_project, default_fleet_path, load_fleet

runner = CliRunner()


def test_add_creates_and_extends_the_fleet_file_keeping_comments(tmp_path: Path, mamori_home: Path) -> None:
    project = tmp_path / "billing"
    project.mkdir()
    result = runner.invoke(
        app,
        [
            "watch",
            "add",
            str(project),
            "--sector",
            "electric-power",
            "--criticality",
            "high",
            "--exposure",
            "internal",
        ],
    )
    assert result.exit_code == 0, result.output
    path = default_fleet_path()
    assert path == mamori_home / "watch.toml" and path.is_file()
    path.write_text("# owned by the SOC team\n" + path.read_text())
    result = runner.invoke(
        app,
        [
            "watch",
            "add",
            "https://github.com/example/grid-api.git",
            "--branch",
            "release",
            "--policy",
            "notify-only",
            "--auto-fix",
            "act",
        ],
    )
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "# owned by the SOC team" in text
    fleet = load_fleet()
    billing, grid = fleet.projects
    assert (
        billing.name == "billing" and billing.path == str(project.resolve()) and billing.policy == "propose"
    )
    assert billing.auto_fix == ("act", "attend")
    assert (billing.asset.sector, billing.asset.criticality, billing.asset.exposure) == (
        "electric-power",
        "high",
        "internal",
    )
    assert grid.name == "grid-api" and grid.git.endswith("grid-api.git") and grid.branch == "release"
    assert grid.policy == "notify-only" and grid.auto_fix == ("act",) and grid.github == "example/grid-api"


def test_add_with_config_writes_that_file(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet" / "watch.toml"
    result = runner.invoke(app, ["watch", "add", "git@github.com:acme/pumps.git", "--config", str(fleet)])
    assert result.exit_code == 0, result.output
    assert load_fleet(fleet).projects[0].github == "acme/pumps"


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        (
            '[[project]]\nname = "a"\npath = "/x"\npolicy = "merge"\n',
            "policy must be propose or notify-only",
            2,
        ),
        ('[[project]]\nname = "a"\npath = "/x"\nauto_fix = ["now"]\n', "auto_fix has now", 2),
        ('[[project]]\nname = "a"\n', "give exactly one of git or path", 2),
        ('[[project]]\nname = "a"\npath = "/x"\nasset = { sector = "moon" }\n', "sector 'moon'", None),
        ("[feeds]\ninterval = -1\n", "interval must be above 0", None),
        ("[feeds\n", "invalid TOML", 1),
        ('[[project]]\nname = "a"\npath = "/x"\n[[project]]\nname = "a"\npath = "/y"\n', "unique", None),
    ],
)
def test_bad_fleet_files_say_what_and_where(tmp_path: Path, text: str, words: str, line: int | None) -> None:
    path = tmp_path / "watch.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_fleet(path)
    assert words in info.value.message and info.value.path == str(path)
    if line is not None:
        assert info.value.line == line


def test_a_bad_add_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "watch.toml"
    add_project("https://example.org/a.git", fleet_path=path)
    before = path.read_text()
    with pytest.raises(InputError):
        add_project("https://example.org/b.git", fleet_path=path, sector="moon")
    with pytest.raises(InputError, match="not a folder"):
        add_project(str(tmp_path / "missing"), fleet_path=path)
    assert path.read_text() == before
    assert [p.name for p in load_fleet(path).projects] == ["a"]


def test_run_with_an_empty_fleet_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["watch", "run", "--once", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code != 0
    assert "mamori watch add" in str(result.exception)


def test_every_watch_command_has_help() -> None:
    for command in (["watch"], ["watch", "add"], ["watch", "run"], ["watch", "status"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command
        assert "<" not in result.output.split("Options")[-1]  # value names, not Python types


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_fleet_text_loads_or_raises_input_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(InputError):
        load_fleet(path)


@given(st.text(max_size=200))
def test_any_index_line_parses_or_is_refused(line: str) -> None:
    parsed = parse_index_line(line)
    if parsed is not None:
        _modified, when, advisory = parsed
        assert when.tzinfo is not None and "," not in advisory and advisory


def test_index_lines_of_the_real_layout() -> None:
    assert parse_index_line("2024-08-15T12:00:00.123Z,PYSEC-2024-1\n")[2] == "PYSEC-2024-1"  # type: ignore[index]
    assert parse_index_line("not a date,GHSA-x") is None
    assert parse_index_line("2024-08-15T12:00:00Z,../../etc/passwd") is None
