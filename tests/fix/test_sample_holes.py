"""The demo sample's deliberate holes, fixed on a copy of the exact files and proven by the
sample's own tests — ready for the moment the analysis stage reports them.

The findings are built by hand at the sink lines (found by their text, not by number) because
the analysis stage may not flag them yet; the rewrite, the proof (the sample's tests before and
after, a re-scan showing nothing new) and the behaviour afterwards are the real ones.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mamori.fix._engine import _plan_code, _prove, _render
from mamori.fix._environ import RunPolicy
from mamori.fix._verify import Runs, detect_tests, run_tests, write_atomic
from mamori.model import Finding, Location
from mamori.scan import ScanOptions, scan_targets

HOLES = (
    ("kotsu/app.py", "cur.execute(sql)", "CWE-89", "PY-SQLI"),
    ("kotsu/diagnostics.py", "shell=True", "CWE-78", "PY-CMDI"),
    ("kotsu/app.py", "yaml.load(", "CWE-502", "PY-DESER"),
)

ATTACKS = r"""
import json, pathlib, sys
from tests.test_app import call
from kotsu.app import create_app

app = create_app(":memory:", data_volume="/")
out = {}
_, _, found = call(app, "GET", "/tickets/search", {"q": "%' OR 1=1 --"})
out["sqli"] = found.get("tickets")
_, _, plain = call(app, "GET", "/tickets/search", {"q": "Brake"})
out["plain"] = len(plain.get("tickets", []))
marker = pathlib.Path(sys.argv[1])
call(app, "GET", "/diagnostics/disk", {"path": f"/; touch {marker}-cmd"})
body = f'!!python/object/apply:os.system ["touch {marker}-yaml"]'
try:
    status, _, _ = call(app, "POST", "/schedules/import", body=body, content_type="application/yaml")
except Exception as exc:
    status = type(exc).__name__
out["yaml_status"] = status
out["cmd_ran"] = pathlib.Path(f"{marker}-cmd").exists()
out["yaml_ran"] = pathlib.Path(f"{marker}-yaml").exists()
print(json.dumps(out))
"""


def _findings(root: Path) -> list[Finding]:
    out = []
    for path, needle, cwe, rule in HOLES:
        lines = (root / path).read_text(encoding="utf-8").splitlines()
        line = next(i for i, text in enumerate(lines, 1) if needle in text)
        out.append(Finding("code", rule, rule, "high", Location(path, line), cwe=(cwe,)))
    return out


def _attack(root: Path, tmp_path: Path) -> dict[str, object]:
    import json

    proc = subprocess.run(
        [sys.executable, "-c", ATTACKS, str(tmp_path / "pwned")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_the_attacks_work_on_the_unfixed_sample(sample: Path, tmp_path: Path) -> None:
    """The control: without the rewrites the three holes really are open."""
    before = _attack(sample, tmp_path)
    assert before["sqli"] and len(before["sqli"]) > before["plain"]  # type: ignore[arg-type]
    assert before["cmd_ran"] and before["yaml_ran"]


def test_sample_holes_are_rewritten_and_proven_by_the_sample_tests(
    sample: Path, demo_db: Path, tmp_path: Path
) -> None:
    findings = _findings(sample)
    outcomes = _plan_code(sample, findings)
    assert [o.status for o in outcomes] == ["unverified"] * 3, [o.why for o in outcomes]
    plans = [o.plan for o in outcomes]
    tests = detect_tests(sample, None, sys.executable)
    assert tests is not None
    baseline = run_tests(tests, sample, sys.executable)
    assert baseline.ok, baseline.output[-800:]
    options = ScanOptions(offline=True, record=False, database=demo_db, prioritize=False)
    before = scan_targets([sample], options)
    runs = Runs(
        tests=tests,
        user_python=sys.executable,
        install=False,
        offline=True,
        policy=RunPolicy(),
        python=sys.executable,
        baseline=baseline,
    )
    proof = _prove(sample, plans, before, options, runs, measure=True)
    assert proof.ok and proof.status == "verified", proof.why
    assert "that passed before still pass" in proof.why
    # verified on evidence: the sample's tests ran every changed line (coverage in the sandbox)
    assert proof.evidence.lines_changed == proof.evidence.lines_covered > 0
    assert proof.evidence.covering_tests

    for edit in _render(sample, plans):
        write_atomic(sample / edit.path, edit.after)
    app = (sample / "kotsu" / "app.py").read_text()
    assert "cur.execute(sql, ('%' + str(q) + '%', '%' + str(q) + '%'))" in app
    assert "WHERE title LIKE ? OR asset LIKE ? ORDER BY id" in app
    assert "yaml.safe_load(_body(environ))" in app
    diag = (sample / "kotsu" / "diagnostics.py").read_text()
    assert 'subprocess.run(["df", "-P", "-k", path], capture_output=True' in diag

    after = _attack(sample, tmp_path)
    assert after["sqli"] == [] and after["plain"] >= 1
    assert not after["cmd_ran"] and not after["yaml_ran"]
    assert after["yaml_status"] != 200
