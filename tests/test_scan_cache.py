"""A second scan of an unchanged tree analyses nothing, through the command users type.

Counted, not timed: the JSON report's ``stats`` says how many Python files the scan covered and
how many it analysed in this run (the rest came from the cache under MAMORI_HOME).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mamori.pyfacts import FactsCache

APP = Path(__file__).parent / "prove" / "apps" / "flask_app"


def _scan(root: Path, home: Path) -> dict[str, Any]:
    env = {**os.environ, "MAMORI_HOME": str(home), "MAMORI_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "scan", str(root), "--no-deps", "--offline", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return dict(json.loads(proc.stdout))


def _view(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (f["id"], f["rule_id"], f["location"]["line"], tuple(f["priority"]["reasons"]))
        for f in report["findings"]
    ]


def test_second_scan_analyses_nothing_and_says_the_same(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(APP, root)
    (root / "helpers.py").write_text("def shout(s):\n    return s.upper()\n")
    home = tmp_path / "home"
    first = _scan(root, home)
    assert first["stats"]["code_files"] == 2
    assert first["stats"]["code_files_analysed"] == 2
    facts = FactsCache(home / "cache" / "code")
    assert any(k.startswith("entry_index:") for k in facts.memo)  # the call graph is remembered
    second = _scan(root, home)
    assert second["stats"] == {**first["stats"], "code_files_analysed": 0}
    assert _view(second) == _view(first) and _view(first)
    # one file changes: only it is analysed again, and the findings still agree
    (root / "helpers.py").write_text("def shout(s):\n    return s.lower()\n")
    third = _scan(root, home)
    assert third["stats"]["code_files_analysed"] == 1
    assert _view(third) == _view(first)
