"""``proven``: a code fix whose proof of vulnerability fires before the fix and not after.

A copy of the prove tests' Flask app, given a project test that runs its SQL route: the SQL
fix is verified by that test (coverage ran the changed line) and, besides, the PoV request
that changed the query's structure on the original no longer does on the patched copy — both
runs in the sandbox. Fixes no test runs stay unverified; the proof never stands in for tests.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mamori.fix import fix_project
from mamori.fix._engine import _Plan, _prove
from mamori.fix._environ import RunPolicy
from mamori.fix._verify import Runs, detect_tests, run_tests
from mamori.sandbox import unavailable_detail, unavailable_reason
from mamori.scan import ScanOptions, scan_targets

pytest.importorskip("flask")
APP = Path(__file__).resolve().parents[1] / "prove" / "apps" / "flask_app"
TEST = """from app import app


def test_an_unknown_user_finds_no_rows():
    client = app.test_client()
    assert client.get("/users", query_string={"name": "nobody"}).get_json() == {"rows": []}
"""


needs_bwrap = pytest.mark.skipif(
    unavailable_reason() is not None,
    reason=f"bubblewrap cannot make a sandbox here ({unavailable_detail()}); install bubblewrap",
)


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "flask_app"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite"))
    (project / "tests").mkdir()
    (project / "tests" / "test_app.py").write_text(TEST)
    (project / "pytest.ini").write_text("[pytest]\n")
    return project


@needs_bwrap
def test_a_sql_fix_is_proven_when_its_pov_fires_before_and_not_after(tmp_path: Path) -> None:
    project = _project(tmp_path)

    report = fix_project(project, deps=False, apply=True, python=sys.executable)

    by_rule = {(r.rule, r.line): r for r in report.results}
    sql = by_rule[("PY-SQLI", 24)]
    assert sql.status == "proven", sql.why
    assert sql.evidence.proof.startswith("the proof of vulnerability fired before the fix and not after")
    assert "structure of the SQL query" in sql.evidence.proof and "curl" in sql.evidence.proof
    assert sql.evidence.lines_changed == sql.evidence.lines_covered > 0  # the tests ran it too
    assert sql.applied and 'execute("SELECT name FROM users WHERE name = ?"' in (
        project / "app.py"
    ).read_text().replace("'", '"')
    # The command injection fix has a PoV too, but no project test runs it: not proven, not written.
    cmdi = by_rule[("PY-CMDI", 51)]
    assert cmdi.status == "unverified" and "no test runs the changed code" in cmdi.why
    assert not cmdi.applied and not cmdi.evidence.proof


@needs_bwrap
def test_a_draft_that_fools_the_rescan_but_not_the_pov_is_unverified(tmp_path: Path) -> None:
    """A draft (as a model might write) launders the input through ``chr(ord(c))``, which the
    analysis models as clean: the tests pass and the re-scan no longer reports the injection,
    yet the same PoV request still changes the query's structure on the patched copy."""
    project = _project(tmp_path)
    options = ScanOptions(offline=True, record=False, deps=False, prioritize=False)
    before = scan_targets([project], options)
    sqli = next(f for f in before.findings if f.rule_id == "PY-SQLI")
    original = (project / "app.py").read_text()
    draft = original.replace(
        'name = request.args.get("name", "")\n    rows = db()',
        'name = "".join(chr(ord(c)) for c in request.args.get("name", ""))\n    rows = db()',
        1,
    )
    assert draft != original
    plan = _Plan([sqli], sqli.rule_id, "code", summary="a draft", llm_files={"app.py": draft}, source="llm")
    tests = detect_tests(project, None, sys.executable)
    assert tests is not None
    runs = Runs(
        tests=tests,
        user_python=sys.executable,
        install=False,
        offline=True,
        policy=RunPolicy(),
        python=sys.executable,
        baseline=run_tests(tests, project, sys.executable),
    )

    proof = _prove(project, [plan], before, options, runs, measure=True)

    assert proof.ok, proof.why  # the tests and the re-scan alone would call it verified
    assert "the re-scan no longer reports it" in proof.why
    assert proof.status == "unverified"
    assert proof.why.startswith("the proof of vulnerability still fires after the fix (PY-SQLI")
    assert (project / "app.py").read_text() == original
