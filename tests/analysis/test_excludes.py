"""``--exclude``, ``.mamoriignore``, test-folder marking and the default JavaScript exclusions.

Through the command users type on real files, and the pattern rules on their own (with a
property test: no pattern or path raises).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.excludes import Excludes, is_test_path

VULN = (
    "import subprocess\n"
    "from flask import Flask, request\n"
    "app = Flask(__name__)\n"
    "@app.route('/run')\n"
    "def run():\n"
    "    return subprocess.check_output(request.args['c'], shell=True)\n"
)
PAGE = "<html><script>document.write(location.hash)</script></html>\n"


def _scan(root: Path, home: Path, *args: str, fmt: str = "json") -> dict[str, Any]:
    env = {**os.environ, "MAMORI_HOME": str(home), "MAMORI_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "scan", str(root), "--no-deps", "--offline", "--format", fmt, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return dict(json.loads(proc.stdout))


def _tree(root: Path) -> None:
    for rel in ("app.py", "legacy/old.py", "tests/test_app.py", "pkg/gen/x.py"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(VULN)


def _paths(report: dict[str, Any]) -> set[str]:
    return {f["location"]["path"] for f in report["findings"]}


def test_nothing_excluded_by_default_and_tests_marked(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _tree(root)
    rep = _scan(root, tmp_path / "h", "--confidence", "low")
    assert _paths(rep) == {"app.py", "legacy/old.py", "tests/test_app.py", "pkg/gen/x.py"}
    by_path = {f["location"]["path"]: f for f in rep["findings"]}
    assert by_path["tests/test_app.py"]["test"] is True
    assert by_path["tests/test_app.py"]["confidence"] == "low"
    assert by_path["tests/test_app.py"]["status"] == "open"  # marked, not suppressed
    assert "test" not in by_path["app.py"]
    sarif = _scan(root, tmp_path / "h", "--confidence", "low", fmt="sarif")
    results = sarif["runs"][0]["results"]
    marked = [r for r in results if r["properties"].get("test")]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in marked] == [
        "tests/test_app.py"
    ]
    assert all("suppressions" not in r for r in marked)


def test_test_findings_low_confidence_hidden_at_default_floor(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _tree(root)
    assert "tests/test_app.py" not in _paths(_scan(root, tmp_path / "h"))


def test_exclude_option_and_ignore_file(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _tree(root)
    rep = _scan(root, tmp_path / "h", "--exclude", "legacy/", "--exclude", "gen")
    assert _paths(rep) == {"app.py"}
    (root / ".mamoriignore").write_text("# generated code\nlegacy\n**/gen/*.py\n")
    assert _paths(_scan(root, tmp_path / "h")) == {"app.py"}
    # a later negation takes a path back in
    assert _paths(_scan(root, tmp_path / "h", "--exclude", "!legacy")) == {"app.py", "legacy/old.py"}


def test_vendored_and_minified_pages_not_analysed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    for rel in ("templates/a.html", "vendor/lib/b.html", "static/admin/c.html"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(PAGE)
    (root / "app.py").write_text("x = 1\n")
    assert _paths(_scan(root, tmp_path / "h")) == {"templates/a.html"}
    taken_back = _scan(root, tmp_path / "h", "--exclude", "!vendor/")
    assert _paths(taken_back) == {"templates/a.html", "vendor/lib/b.html"}


def test_pattern_rules() -> None:
    ex = Excludes.of(["*.min.js", "/top", "docs/build/", "a/**/z.py", "cache/", "!keep.min.js"])
    assert ex.excluded("static/app.min.js")
    assert not ex.excluded("static/keep.min.js")
    assert ex.excluded("top/x.py") and not ex.excluded("sub/top/x.py")
    assert ex.excluded("docs/build/index.html") and not ex.excluded("x/docs/build/index.html")
    assert ex.excluded("a/z.py") and ex.excluded("a/b/c/z.py") and not ex.excluded("b/z.py")
    assert ex.excluded("cache", is_dir=True) and not ex.excluded("cache")  # a file named cache
    assert not Excludes.of([])
    assert not Excludes.of(["# only a comment", "   "])


def test_test_paths() -> None:
    assert is_test_path("tests/x.py") and is_test_path("app/fixtures/data.py")
    assert is_test_path("pkg/test_views.py") and is_test_path("conftest.py")
    assert not is_test_path("app/views.py") and not is_test_path("contest.py")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=5), st.text(max_size=30), st.booleans())
def test_arbitrary_patterns_never_raise(patterns: list[str], path: str, is_dir: bool) -> None:
    assert isinstance(Excludes.of(patterns).excluded(path, is_dir=is_dir), bool)


def test_bracket_classes_follow_fnmatch_and_git() -> None:
    ex = Excludes.of(["[]", "a[!b]c", "[^x]y", "[]]z", "q[z-a]"])
    assert ex.excluded("[]", is_dir=False)
    assert ex.excluded("aac", is_dir=False) and not ex.excluded("abc", is_dir=False)
    assert ex.excluded("ay", is_dir=False) and not ex.excluded("xy", is_dir=False)
    assert ex.excluded("]z", is_dir=False)
    assert not ex.excluded("qa", is_dir=False) and not ex.excluded("qz", is_dir=False)
