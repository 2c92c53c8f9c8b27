"""Two fixes that pass alone and break together: the combined run catches it, a safe subset is applied.

The fixture is a key-value store that tells session keys from password keys by their length
(MD5: 32 hex digits, SHA-1: 40). Moving either digest to SHA-256 keeps the lengths apart; moving
both makes them equal, and the project's own test of the store fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mamori.fix import fix_project
from mamori.scan import ScanOptions, scan_targets

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conflict" / "store_keys"
FILES = ("keystore/sessions.py", "keystore/passwords.py")


def test_fixes_that_break_together_are_caught_and_only_a_safe_subset_is_applied(tmp_path: Path) -> None:
    project = tmp_path / "store_keys"
    shutil.copytree(FIXTURE, project)
    originals = {f: (project / f).read_text() for f in FILES}

    report = fix_project(project, deps=False, apply=True, workers=2, python=sys.executable)

    results = {r.path: r for r in report.results}
    assert set(results) == set(FILES)
    assert report.verification.method == "tests+re-scan"
    assert report.verification.combined is False
    assert any("fail together" in w for w in report.verification.warnings)
    kept = [r for r in report.results if r.status == "verified"]
    dropped = [r for r in report.results if r.status == "unverified"]
    assert len(kept) == 1 and len(dropped) == 1, report.results
    # Both passed alone (each was proven in its own scratch copy); together they broke a test.
    assert "passes alone but conflicts with other fixes" in dropped[0].why
    assert "test_the_store_tells_sessions_from_passwords" in dropped[0].why
    assert kept[0].applied and not dropped[0].applied
    assert "sha256" in (project / kept[0].path).read_text()
    assert (project / dropped[0].path).read_text() == originals[dropped[0].path]
    # The user's tree after the fix: the project's own tests still pass, one weak hash is left.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-800:]
    after = scan_targets([project], ScanOptions(offline=True, record=False, deps=False))
    assert [f.location.path for f in after.findings] == [dropped[0].path]


def test_each_fix_alone_is_verified(tmp_path: Path) -> None:
    for keep in FILES:
        project = tmp_path / keep.replace("/", "_")
        shutil.copytree(FIXTURE, project)
        other = next(f for f in FILES if f != keep)
        # Remove the other weakness by hand (a non-security digest), leaving one fix to prove.
        text = (project / other).read_text()
        (project / other).write_text(
            text.replace("hashlib.md5(", "hashlib.blake2s(digest_size=16, data=").replace(
                "hashlib.sha1(", "hashlib.blake2s(digest_size=20, data="
            )
        )
        report = fix_project(project, deps=False, apply=False, python=sys.executable)
        assert [(r.path, r.status) for r in report.results] == [(keep, "verified")], report.results
