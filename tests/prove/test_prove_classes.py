"""Proofs of the classes the first test app lacks (SSRF, deserialisation, XXE) and safe twins.

tests/prove/apps/classes_app holds one vulnerable route and its safe twin per class: an
allow-listed URL host, ``json`` instead of ``pickle``, a SAX parser with external entities off,
a path confined by ``os.path.realpath`` + prefix, an allow-listed redirect. Each vulnerable
route found by the scan is proven through the CLI; each safe twin, proved as if the analysis
had flagged it, is ``not_proven``.
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
PYTHON = Path(sys.executable)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    pytest.importorskip("flask")
    dest = tmp_path / "classes_app"
    shutil.copytree(APPS / "classes_app", dest)
    return dest


def _line(root: Path, snippet: str, after: int = 0) -> int:
    text = (root / "app.py").read_text().splitlines()
    return next(i + 1 for i, t in enumerate(text) if i + 1 > after and snippet in t)


def test_each_class_is_proven_through_the_cli(root: Path) -> None:
    argv = [sys.executable, "-m", "mamori", "prove", str(root), "-f", "json", "--python", sys.executable]
    proc = subprocess.run([*argv, *(["--unsafe-run"] if UNSAFE else [])], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = {(f["rule_id"], f["location"]["line"]): f["proof"] for f in data["findings"] if "proof" in f}
    expected = {
        "PY-SSRF": "urllib.request.urlopen(url",
        "PY-DESER": "pickle.loads(",
        "PY-XXE": "parseString(",
        "PY-PATH": "open(os.path.join(FILES, name))",
        "PY-REDIRECT": 'redirect(request.args.get("to"',
    }
    for rule, snippet in expected.items():
        proof = got[(rule, _line(root, snippet))]
        assert proof["status"] == "proven", (rule, proof)
        assert proof["request"]["curl"].startswith("curl "), proof
        assert proof["observed"]["canary"] in json.dumps(proof["observed"]), proof
    # the XXE proof names the entity file the parser opened; the SSRF one the host it tried
    assert "external entity" in got[("PY-XXE", _line(root, "parseString("))]["reason"]
    assert ".invalid" in got[("PY-SSRF", _line(root, "urllib.request.urlopen(url"))]["observed"]["value"]
    # the analysis flags the realpath-confined twin; the proof does not confirm it
    confined = got.get(("PY-PATH", _line(root, "with open(full)")))
    assert confined is None or confined["status"] == "not_proven", confined


def _flagged(root: Path, fn: str, src: str, sink: str, rule: str, cwe: str, source: str) -> Finding:
    start = _line(root, f"def {fn}(")
    return Finding(
        kind="code",
        rule_id=rule,
        title="safe twin as if flagged",
        severity="high",
        location=Location("app.py", _line(root, sink, start)),
        cwe=(cwe,),
        trace=(
            TraceStep("app.py", _line(root, src, start), f"{source} (source)"),
            TraceStep("app.py", _line(root, sink, start), "sink (sink)"),
        ),
    )


def test_no_safe_twin_is_proven(root: Path) -> None:
    twins = [
        ("fetch_safe", "request.args", "urlopen(", "PY-SSRF", "CWE-918", "flask.request.args"),
        ("prefs_safe", "request.cookies", "json.loads(", "PY-DESER", "CWE-502", "flask.request.cookies"),
        ("parse_xml_safe", "request.get_data", "parseString(", "PY-XXE", "CWE-611", "flask.request.data"),
        ("doc_safe", "request.args", "open(full)", "PY-PATH", "CWE-22", "flask.request.args"),
        ("next_page_safe", "request.args", "return redirect", "PY-REDIRECT", "CWE-601", "flask.request.args"),
    ]
    findings = [_flagged(root, *t) for t in twins]
    proofs = prove_findings(root, findings, python=PYTHON, unsafe=UNSAFE)
    assert [p.status if p else None for p in proofs] == ["not_proven"] * len(twins), proofs
    # each twin was reached by a request (a real negative, not a start-up failure)
    assert all(p is not None and p.request is not None for p in proofs), proofs
