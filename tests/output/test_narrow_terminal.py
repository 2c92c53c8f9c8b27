"""No character of a finding is lost at any terminal width (``mamori scan``, ``mamori detect``).

Through the real CLI on a small project written here: the table at COLUMNS=40..200 must contain
every finding's rule id, file, line and title once line wrapping is undone (whitespace and box
characters removed from both sides), and never a cropped cell (``…`` that the finding lacks).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import write_osv

JINJA = {
    "id": "GHSA-462w-v97r-4m45",
    "modified": "2024-09-01T00:00:00Z",
    "aliases": ["CVE-2019-10906"],
    "summary": "Jinja2 sandbox escape via string formatting",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}

_BOX = re.compile(r"[\s─━│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼╭╮╯╰═║╇╈]+")


def _flat(text: str) -> str:
    return _BOX.sub("", text)


def _shown(needle: str, output: str) -> bool:
    """``needle`` is in ``output``: read across wrapped lines (one column, or the stacked form,
    where a folded word continues on the next line), or, in a table whose cells wrap beside
    other cells, as every one of its words whole."""
    tokens = set(_BOX.split(output))
    return _flat(needle) in _flat(output) or all(w in tokens for w in _BOX.split(needle) if w)


_HOME: dict[str, str] = {}


def _run(args: list[str], width: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_HOME, "NO_COLOR": "1", "COLUMNS": str(width)}
    return subprocess.run(
        [sys.executable, "-m", "mamori", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    root = tmp_path_factory.mktemp("narrow")
    home = root / "home"
    _HOME["MAMORI_HOME"] = str(home)
    proj = root / "a_project_with_a_rather_long_name"
    (proj / "settings_and_configuration").mkdir(parents=True)
    (proj / "settings_and_configuration" / "production_settings.py").write_text(
        'SECRET_KEY = "django-insecure-abc123def456ghi789jkl"\n', encoding="utf-8"
    )
    (proj / "runner.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n", encoding="utf-8"
    )
    (proj / "requirements.txt").write_text("jinja2==2.10\nflask>=0.12\n", encoding="utf-8")
    assert _run(["db", "import", str(write_osv(root / "osv", JINJA))], 200).returncode == 0
    report = json.loads(_run(["scan", str(proj), "--format", "json", "--no-record", "--offline"], 200).stdout)
    findings = report["findings"]
    assert {f["rule_id"] for f in findings} >= {"GHSA-462w-v97r-4m45", "PY-SECRET"}
    return proj, findings


@pytest.mark.parametrize("width", [40, 47, 55, 60, 68, 80, 96, 120, 160, 200])
def test_scan_table_loses_nothing(project: tuple[Path, list[dict[str, object]]], width: int) -> None:
    proj, findings = project
    run = _run(["scan", str(proj), "--no-record", "--offline"], width)
    assert run.returncode == 1, run.stderr
    for f in findings:
        loc = f["location"]
        assert isinstance(loc, dict)
        for needle in (f["rule_id"], loc["path"], str(loc["line"]), f["title"]):
            assert _shown(str(needle), run.stdout), (width, needle, run.stdout)
    # nothing cropped: every … in the output is one that a finding's own text holds
    assert run.stdout.count("…") <= sum(str(f["title"]).count("…") for f in findings), run.stdout
    assert all(len(line) <= width for line in run.stdout.splitlines()), run.stdout


def test_stacked_below_the_tables_width(project: tuple[Path, list[dict[str, object]]]) -> None:
    proj, _ = project
    narrow = _run(["scan", str(proj), "--no-record", "--offline"], 40).stdout
    assert "Rule:" in narrow and "File:" in narrow
    wide = _run(["scan", str(proj), "--no-record", "--offline"], 200).stdout
    assert "Rule:" not in wide


@pytest.mark.parametrize("width", [40, 60, 200])
def test_detect_table_loses_nothing(tmp_path: Path, width: int) -> None:
    log = tmp_path / "access_log_of_the_production_web_server.log"
    log.write_text(
        '203.0.113.9 - - [10/Oct/2024:13:55:36 +0000] "GET /index.php?id=1%27%20UNION%20SELECT%20password'
        '%20FROM%20users-- HTTP/1.1" 200 2326 "-" "sqlmap/1.7"\n',
        encoding="utf-8",
    )
    alerts = [
        json.loads(x) for x in _run(["detect", str(log), "--format", "jsonl"], 200).stdout.splitlines() if x
    ]
    run = _run(["detect", str(log)], width)
    assert alerts
    for a in alerts:
        assert _shown(a["title"], run.stdout), (width, a["title"], run.stdout)
    assert "…" not in run.stdout, run.stdout
