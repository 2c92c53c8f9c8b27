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
import time
from pathlib import Path
from typing import Any

from mamori.analysis import RACY_SECONDS, scan_code
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


_VULN = (
    "import subprocess\n"
    "from flask import Flask, request\n"
    "from helpers import shout\n"
    "app = Flask(__name__)\n\n"
    "@app.route('/run')\n"
    "def run():\n"
    "    return subprocess.check_output(shout(request.args['c']), shell=True)\n"
)


def _without_run_counts(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "stats": {k: v for k, v in report["stats"].items() if k != "code_files_analysed"}}


def test_unchanged_files_are_not_read_again_and_the_report_is_identical(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(_VULN)
    (root / "helpers.py").write_text("def shout(s):\n    return s.upper()\n")
    # the stat record is trusted only for files whose ctime is RACY_SECONDS older than the start
    # of the scan that made it: wait that long (a wait, not a timed assertion)
    time.sleep(RACY_SECONDS + 0.2)
    home = tmp_path / "home"
    cold = subprocess.run(
        [sys.executable, "-m", "mamori", "scan", str(root), "--no-deps", "--offline", "--format", "json"],
        capture_output=True,
        env={**os.environ, "MAMORI_HOME": str(home), "MAMORI_OFFLINE": "1"},
        check=False,
    ).stdout
    warm = subprocess.run(
        [sys.executable, "-m", "mamori", "scan", str(root), "--no-deps", "--offline", "--format", "json"],
        capture_output=True,
        env={**os.environ, "MAMORI_HOME": str(home), "MAMORI_OFFLINE": "1"},
        check=False,
    ).stdout
    first, second = json.loads(cold), json.loads(warm)
    assert first["findings"] and second["stats"]["code_files_analysed"] == 0
    # byte for byte the same report but for the count of files analysed in this run
    assert warm == cold.replace(b'"code_files_analysed": 2', b'"code_files_analysed": 0')
    assert _without_run_counts(second) == _without_run_counts(first)
    # counted through the API on the same cache: only app.py is read, for its finding's line
    # (an inline suppression there must still count); helpers.py is not
    again = scan_code(root, cache_dir=home / "cache" / "code")
    assert (again.files_scanned, again.files_read, again.files_analysed) == (2, 1, 0)


def test_a_change_behind_a_restored_mtime_is_still_seen(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(_VULN)
    helpers = root / "helpers.py"
    helpers.write_text("def shout(s):\n    return s.upper()\n")
    time.sleep(RACY_SECONDS + 0.2)
    cache = tmp_path / "cache"
    first = scan_code(root, cache_dir=cache)
    assert first.files_read == 2 and any(f.rule_id == "PY-CMDI" for f in first.findings)
    assert scan_code(root, cache_dir=cache).files_read == 1  # app.py, for its finding's line
    old = helpers.stat()
    # same size, mtime put back: the ctime (and the inode, for a rename) still tell
    helpers.write_text("def shout(s):\n    return 'ABCDEFG'\n")
    os.utime(helpers, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert helpers.stat().st_size == old.st_size and helpers.stat().st_mtime_ns == old.st_mtime_ns
    changed = scan_code(root, cache_dir=cache)
    assert changed.files_read >= 1 and changed.files_analysed >= 1
    assert changed.findings == scan_code(root).findings  # as a scan without any cache says
    assert changed.findings != first.findings  # the command no longer comes from the request
    # a different size is seen however the times are set
    helpers.write_text("def shout(s):\n    return s\n")
    os.utime(helpers, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert scan_code(root, cache_dir=cache).findings == scan_code(root).findings


def test_a_file_written_as_it_was_recorded_is_read_again(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(_VULN)
    (root / "helpers.py").write_text("def shout(s):\n    return s.upper()\n")
    cache = tmp_path / "cache"
    assert scan_code(root, cache_dir=cache).files_read == 2
    # both files were written within RACY_SECONDS of the recording scan's start: not trusted
    assert scan_code(root, cache_dir=cache).files_read == 2
    # recorded again by every scan that could not trust them, until one can
    time.sleep(RACY_SECONDS + 0.2)
    assert scan_code(root, cache_dir=cache).files_read == 2
    assert scan_code(root, cache_dir=cache).files_read == 1  # app.py, for its finding's line


def _report_without_run_counts(root: Path, home: Path) -> dict[str, Any]:
    return _without_run_counts(_scan(root, home))


def test_a_module_whose_tree_did_not_change_does_not_make_its_importers_analysed_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(_VULN)
    helpers = root / "helpers.py"
    helpers.write_text("def shout(s):\n    return s.upper()\n")
    home = tmp_path / "home"
    first = _scan(root, home)
    assert first["stats"]["code_files_analysed"] == 2
    assert any(f["rule_id"] == "PY-CMDI" and f["location"]["path"] == "app.py" for f in first["findings"])
    # a comment and blank space: the same tree, so app.py (which read helpers.py) keeps its results
    helpers.write_text("def shout(s):  # louder\n    return s.upper()\n\n# the end\n")
    second = _scan(root, home)
    assert second["stats"]["code_files_analysed"] == 1
    assert _without_run_counts(second) == _report_without_run_counts(root, tmp_path / "cold1")
    assert _view(second) == _view(first)
    # the function's body changes the flow in app.py: both analysed again, as a cold scan says
    helpers.write_text("def shout(s):  # louder\n    return 'ls'\n\n# the end\n")
    third = _scan(root, home)
    assert third["stats"]["code_files_analysed"] == 2
    assert _without_run_counts(third) == _report_without_run_counts(root, tmp_path / "cold2")
    assert not any(f["rule_id"] == "PY-CMDI" for f in third["findings"])
    # back to the flow, one line lower (the trace's lines in helpers.py move)
    helpers.write_text("\n\ndef shout(s):\n    return s.upper()\n")
    fourth = _scan(root, home)
    assert fourth["stats"]["code_files_analysed"] == 2
    assert _without_run_counts(fourth) == _report_without_run_counts(root, tmp_path / "cold3")
    assert any(f["rule_id"] == "PY-CMDI" for f in fourth["findings"])


_CALLER = (
    "import subprocess\n"
    "from flask import Flask, request\n"
    "from middle import f\n"
    "app = Flask(__name__)\n\n"
    "@app.route('/{name}')\n"
    "def {name}():\n"
    "    return subprocess.check_output(f(request.args['c']), shell=True)\n"
)


def test_a_change_two_imports_away_reaches_every_caller_of_a_shared_summary(tmp_path: Path) -> None:
    # aa.py and ab.py call middle.f the same way: the summary built for aa.py is used again for
    # ab.py, so ab.py reads inner.py through it without evaluating anything of inner.py itself
    root = tmp_path / "app"
    root.mkdir()
    for name in ("aa", "ab"):
        (root / f"{name}.py").write_text(_CALLER.replace("{name}", name))
    (root / "middle.py").write_text("from inner import g\n\ndef f(x):\n    return g(x)\n")
    inner = root / "inner.py"
    inner.write_text("def g(x):\n    return 'ls'\n")
    home = tmp_path / "home"
    first = _scan(root, home)
    assert not [f for f in first["findings"] if f["rule_id"] == "PY-CMDI"]
    # inner.g now passes its argument on: the command comes from the request in both callers
    inner.write_text("def g(x):\n    return x\n")
    second = _scan(root, home)
    cold = _scan(root, tmp_path / "cold")
    assert sorted(f["location"]["path"] for f in cold["findings"] if f["rule_id"] == "PY-CMDI") == [
        "aa.py",
        "ab.py",
    ]
    assert _without_run_counts(second) == _without_run_counts(cold)
    # and back: neither caller keeps a finding the code no longer has
    inner.write_text("def g(x):\n    return 'ls'\n")
    third = _scan(root, home)
    assert _without_run_counts(third) == _report_without_run_counts(root, tmp_path / "cold2")
    assert not [f for f in third["findings"] if f["rule_id"] == "PY-CMDI"]


def test_a_change_in_a_function_no_importer_ran_leaves_the_importers_alone(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(_VULN)
    helpers = root / "helpers.py"
    helpers.write_text("def shout(s):\n    return s.upper()\n\ndef quiet(s):\n    return s.lower()\n")
    home = tmp_path / "home"
    first = _scan(root, home)
    assert first["stats"]["code_files_analysed"] == 2
    # app.py never runs quiet(): its results stand
    helpers.write_text("def shout(s):\n    return s.upper()\n\ndef quiet(s):\n    return 'x'\n")
    second = _scan(root, home)
    assert second["stats"]["code_files_analysed"] == 1
    assert _without_run_counts(second) == _report_without_run_counts(root, tmp_path / "cold1")
    # shout() changes on the same lines: app.py ran it, so it is analysed again
    helpers.write_text("def shout(s):\n    return 'ls'\n\ndef quiet(s):\n    return 'x'\n")
    third = _scan(root, home)
    assert third["stats"]["code_files_analysed"] == 2
    assert _without_run_counts(third) == _report_without_run_counts(root, tmp_path / "cold2")
    assert not any(f["rule_id"] == "PY-CMDI" for f in third["findings"])


def test_a_file_added_that_answers_an_import_makes_its_importers_analysed_again(tmp_path: Path) -> None:
    # what an import resolves to is something the analysis read: before sanitize.py exists the
    # call is to code the scan cannot see (the flow goes through it); once the file is there,
    # the import means that file and its body decides; the cached result of app.py must not stand
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text(
        "import subprocess\n"
        "from flask import Flask, request\n"
        "from sanitize import clean\n"
        "app = Flask(__name__)\n\n"
        "@app.route('/run')\n"
        "def run():\n"
        "    return subprocess.check_output(clean(request.args['c']), shell=True)\n"
    )
    home = tmp_path / "home"
    first = _scan(root, home)
    cold_first = _report_without_run_counts(root, tmp_path / "cold0")
    assert _without_run_counts(first) == cold_first
    (root / "sanitize.py").write_text("def clean(s):\n    return 'ls'\n")
    second = _scan(root, home)
    cold_second = _report_without_run_counts(root, tmp_path / "cold1")
    assert _view(_without_run_counts(cold_second)) != _view(cold_first), "the added file must matter"
    assert second["stats"]["code_files_analysed"] == 2
    assert _without_run_counts(second) == cold_second
    # and removed again: the import no longer means a project file
    (root / "sanitize.py").unlink()
    third = _scan(root, home)
    assert _without_run_counts(third) == _report_without_run_counts(root, tmp_path / "cold2")
    assert _view(third) == _view(first)
