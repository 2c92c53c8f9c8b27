"""The corpus under ``tests/fix/cases/``: small projects with a hole, their own tests, and
behaviour and exploit checks (``checks.py``, beside the project, never seen by mamori).

After ``mamori fix`` writes what it calls proven or verified, the checks run against the
project: no fix with those labels may break a behaviour check or leave its exploit open."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.fix import fix_project

CASES = Path(__file__).resolve().parent / "cases"

_RUN_CHECKS = """
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import checks
out = []
for kind, function, name, f in checks.CHECKS:
    try:
        ok = bool(f())
    except Exception as exc:
        ok = False
        name += f" (raised {type(exc).__name__}: {exc})"
    out.append([kind, function, name, ok])
print(json.dumps(out))
"""


def _function_at(path: Path, line: int) -> str:
    best = ""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno):
            best = node.name
    return best


def _checks(case: Path, project: Path) -> list[tuple[str, str, str, bool]]:
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CHECKS, str(project), str(case)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=project,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    return [tuple(c) for c in json.loads(proc.stdout)]  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir() if (p / "checks.py").is_file()))
def test_labels_agree_with_hidden_checks(name: str, tmp_path: Path, demo_db: Path) -> None:
    case = CASES / name
    project = tmp_path / name
    shutil.copytree(case / "project", project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    original = tmp_path / "original"
    shutil.copytree(project, original)
    before = _checks(case, original)
    assert all(ok for kind, _f, _n, ok in before if kind == "behaviour"), before
    report = fix_project(project, database=demo_db, deps=False, offline=True, apply=True)
    after = _checks(case, project)
    trusted = [r for r in report.results if r.status in ("proven", "verified")]
    for r in trusted:
        assert r.applied
        function = _function_at(original / r.path, r.line)
        broken = [n for kind, f, n, ok in after if f == function and not ok]
        assert not broken, f"{r.rule} at {r.path}:{r.line} is labelled {r.status} but fails: {broken}"
    # what is written never breaks a behaviour check anywhere
    assert all(ok for kind, _f, _n, ok in after if kind == "behaviour"), after
    # a fix mamori does not trust is not written
    assert all(not r.applied for r in report.results if r.status not in ("proven", "verified"))
