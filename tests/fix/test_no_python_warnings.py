"""``mamori fix`` and ``mamori demo`` print notes as readable ``warning:`` lines, once: never a
Python ``warnings`` line (``…/scan.py:575: UserWarning: …``), which each verifying re-scan
used to print again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.helpers import mamori

from mamori.demo import advisories_source, sample_source

_PY_WARNING = re.compile(r"\w+Warning:|\.py:\d+:")


def test_fix_on_the_sample_prints_no_python_warning(tmp_path: Path) -> None:
    project = tmp_path / "sample"
    shutil.copytree(sample_source(), project)
    assert mamori("db", "import", advisories_source()).code == 0
    run = mamori("fix", project, "--offline")
    assert run.code in (0, 1), run.err
    assert not _PY_WARNING.search(run.err), run.err
    notes = [line for line in run.err.splitlines() if "below medium confidence" in line]
    assert len(notes) <= 1, run.err


def test_demo_prints_no_python_warning(tmp_path: Path) -> None:
    run = mamori("demo", "--out", tmp_path / "out")
    assert run.code == 0, run.err
    assert not _PY_WARNING.search(run.err + run.out), run.err
    assert sum("below medium confidence" in line for line in run.err.splitlines()) <= 1, run.err
