"""Apps started the way their READMEs say: from their own folder, with their database prepared.

- tests/prove/apps/multi_app holds a bad/ and a good/ script-style Flask app (each imports a
  sibling module by its top-level name, is named like a frozen standard-library module,
  ``site.py``, and reads its settings table at import, which ``db_init.py`` creates): each
  finding is proven against the app of its own folder, run from there after ``db_init.py``.
- tests/prove/apps/flaskr_app is a Flask-tutorial app: a ``create_app()`` factory whose view
  needs the row ``flask init-db`` inserts before the input reaches the query.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamori import sandbox
from mamori.model import Finding, Location, TraceStep
from mamori.prove import prove_findings

APPS = Path(__file__).parent / "apps"
UNSAFE = sandbox.unavailable_reason() is not None


def _prove_cli(root: Path) -> dict[tuple[str, int], dict]:
    argv = [sys.executable, "-m", "mamori", "prove", str(root), "-f", "json", "--python", sys.executable]
    proc = subprocess.run([*argv, *(["--unsafe-run"] if UNSAFE else [])], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    return {
        (f["location"]["path"], f["location"]["line"]): f["proof"] for f in data["findings"] if "proof" in f
    }


def _line(path: Path, snippet: str) -> int:
    return next(i + 1 for i, t in enumerate(path.read_text().splitlines()) if snippet in t)


def test_script_style_apps_run_from_their_folder_after_db_init(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    root = tmp_path / "multi_app"
    shutil.copytree(APPS / "multi_app", root)
    got = _prove_cli(root)
    bad = got[("bad/site.py", _line(root / "bad" / "site.py", 'execute(f"SELECT'))]
    assert bad["status"] == "proven", bad
    assert bad["observed"]["prepared"] == "ran db_init.py", bad
    assert bad["observed"]["path"] == "bad/site.py", bad
    # the good app's query, proved as if flagged: its own app (not bad's) runs it, and it is safe
    good = root / "good" / "site.py"
    finding = Finding(
        kind="code",
        rule_id="PY-SQLI",
        title="safe twin as if flagged",
        severity="high",
        location=Location("good/site.py", _line(good, "execute(")),
        cwe=("CWE-89",),
        trace=(
            TraceStep("good/site.py", _line(good, "request.args.get"), "flask.request.args (source)"),
            TraceStep("good/site.py", _line(good, "execute("), "sink (sink)"),
        ),
    )
    proof = prove_findings(root, [finding], python=Path(sys.executable), unsafe=UNSAFE)[0]
    assert proof is not None and proof.status == "not_proven", proof
    assert "stayed a literal" in proof.reason or "did not bring" in proof.reason, proof
    assert proof.request is not None and "/item" in str(proof.request["url"]), proof


def test_flask_init_db_prepares_the_database(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    root = tmp_path / "flaskr_app"
    shutil.copytree(APPS / "flaskr_app", root)
    got = _prove_cli(root)
    proof = got[("flaskr/__init__.py", _line(root / "flaskr" / "__init__.py", "UPDATE post SET"))]
    assert proof["status"] == "proven", proof
    assert proof["observed"]["prepared"] == "ran flask init-db", proof
    # the project's own copy is untouched: the database was made in the scratch copy
    assert not (root / "instance" / "flaskr.sqlite").exists()


def test_a_factory_of_any_name_called_with_an_empty_argv(tmp_path: Path) -> None:
    """dvpwa's layout: ``run.py`` calls ``init(sys.argv[1:])``, which builds the Application."""
    pytest.importorskip("aiohttp")
    root = tmp_path / "aiohttp_factory_app"
    shutil.copytree(APPS / "aiohttp_factory_app", root)
    got = _prove_cli(root)
    proof = got[("shop/app.py", _line(root / "shop" / "app.py", "WHERE name = '%s'"))]
    assert proof["status"] == "proven", proof
    assert proof["observed"]["route"] == "/students", proof


def test_an_app_that_exits_at_start_shows_its_last_stderr_lines(tmp_path: Path) -> None:
    """An app that calls ``sys.exit(1)`` at import after printing why: the proof's reason quotes it."""
    pytest.importorskip("flask")
    root = tmp_path / "exits"
    root.mkdir()
    (root / "app.py").write_text(
        "import sqlite3, sys\n"
        "from flask import Flask, request\n"
        "print('config.ini not found: copy config.example.ini first', file=sys.stderr)\n"
        "sys.exit(1)\n"
        "app = Flask(__name__)\n\n"
        "@app.route('/q')\n"
        "def q():\n"
        "    db = sqlite3.connect(':memory:')\n"
        "    return str(db.execute(\"SELECT '\" + request.args['n'] + \"'\").fetchall())\n"
    )
    got = _prove_cli(root)
    proof = got[("app.py", 10)]
    assert proof["status"] == "not_proven", proof
    assert "SystemExit" in proof["reason"], proof
    assert "config.ini not found: copy config.example.ini first" in proof["reason"], proof


def test_an_app_that_runs_its_server_at_import_is_proven(tmp_path: Path) -> None:
    """vulpy's layout: the script ends in ``app.run(debug=True)`` at module level (no main guard).

    Run under the harness, Werkzeug's reloader would re-execute it and the app would never get a
    request; the call is ignored while the app loads, as ``flask run`` ignores it.
    """
    pytest.importorskip("flask")
    root = tmp_path / "runs"
    root.mkdir()
    (root / "app.py").write_text(
        "import sqlite3\n"
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n\n"
        "@app.route('/q')\n"
        "def q():\n"
        "    db = sqlite3.connect(':memory:')\n"
        "    return str(db.execute(\"SELECT '\" + request.args['n'] + \"'\").fetchall())\n\n"
        "app.run(debug=True, host='127.0.1.1', port=5000)\n"
    )
    got = _prove_cli(root)
    proof = got[("app.py", 8)]
    assert proof["status"] == "proven", proof
    assert proof["observed"]["route"] == "/q", proof
