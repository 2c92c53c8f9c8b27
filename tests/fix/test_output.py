"""``mamori fix`` through the command line: the dry-run patch applies with ``git apply`` when
piped, the summary goes to stderr, ``--format json`` matches its schema, ``-o`` writes a file,
and the results database keeps every fix with its status, reason, diff and evidence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from mamori.fix._render import SCHEMA_PATH
from mamori.results import ResultsStore


def _run(sample: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAMORI_HOME": str(home), "COLUMNS": "60"}
    env.pop("MAMORI_FIX_PYTHON", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mamori",
            "fix",
            str(sample),
            "--offline",
            "--no-deps",
            "--python",
            sys.executable,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path, demo_db: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(demo_db, home / "advisories.sqlite")
    return home


def test_dry_run_patch_applies_when_piped_and_summary_is_on_stderr(sample: Path, home: Path) -> None:
    before = (sample / "kotsu" / "auth.py").read_text()
    proc = _run(sample, home, "--dry-run")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert (sample / "kotsu" / "auth.py").read_text() == before  # a dry run writes nothing
    patch = proc.stdout
    assert patch.startswith("--- a/") and "+++ b/kotsu/auth.py" in patch
    assert "would fix" in proc.stderr and "unverified" in proc.stderr and "refused" in proc.stderr
    assert "would fix" not in patch and "verification:" not in patch  # stdout holds the patch only
    assert max(len(line) for line in patch.splitlines()) > 60  # long lines are not wrapped at COLUMNS
    assert "verification: tests+re-scan" in " ".join(proc.stderr.split())  # how it verified
    check = subprocess.run(
        ["git", "apply", "--check", "-v", "-"],
        input=patch,
        cwd=sample,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    subprocess.run(["git", "apply", "-"], input=patch, cwd=sample, text=True, check=True)
    assert "hashlib.scrypt" in (sample / "kotsu" / "auth.py").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=sample, capture_output=True, text=True, check=False
    )
    assert tests.returncode == 0, tests.stderr[-800:]


def test_json_matches_its_schema_and_the_database_keeps_the_evidence(sample: Path, home: Path) -> None:
    out = sample.parent / "fixes.json"
    proc = _run(sample, home, "--dry-run", "--format", "json", "-o", str(out))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert proc.stdout == ""
    data = json.loads(out.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["dry_run"] is True and data["summary"].startswith("would fix")
    statuses = {f["status"] for f in data["fixes"]}
    assert "verified" in statuses
    verified = [f for f in data["fixes"] if f["status"] == "verified"]
    assert all(f["evidence"]["lines_covered"] == f["evidence"]["lines_changed"] > 0 for f in verified)
    assert all(f["evidence"]["covering_tests"] for f in verified)
    store = ResultsStore(home / "results.sqlite")
    stored = store.fixes_for(verified[0]["finding_id"])
    assert stored and stored[0].status == "verified" and stored[0].dry_run
    assert stored[0].evidence["lines_changed"] == verified[0]["evidence"]["lines_changed"]
    assert stored[0].diff == verified[0]["diff"]
    assert stored[0].why == verified[0]["reason"]  # status, reason, diff, dry run and evidence
