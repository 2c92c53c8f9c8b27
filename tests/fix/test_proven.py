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
from mamori.sandbox import unavailable_detail, unavailable_reason

pytest.importorskip("flask")
APP = Path(__file__).resolve().parents[1] / "prove" / "apps" / "flask_app"
TEST = """from app import app


def test_an_unknown_user_finds_no_rows():
    client = app.test_client()
    assert client.get("/users", query_string={"name": "nobody"}).get_json() == {"rows": []}
"""


@pytest.mark.skipif(
    unavailable_reason() is not None,
    reason=f"bubblewrap cannot make a sandbox here ({unavailable_detail()}); install bubblewrap",
)
def test_a_sql_fix_is_proven_when_its_pov_fires_before_and_not_after(tmp_path: Path) -> None:
    project = tmp_path / "flask_app"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite"))
    (project / "tests").mkdir()
    (project / "tests" / "test_app.py").write_text(TEST)
    (project / "pytest.ini").write_text("[pytest]\n")

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
