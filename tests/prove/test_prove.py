"""Proofs of vulnerability on small apps of each framework (tests/prove/apps), through the API and CLI.

Each app has a vulnerable route and a safe twin per class; the app runs in a child process
under mamori's sandbox (bubblewrap); where none can be had the tests say so and run the app
explicitly unsafe, as ``--unsafe-run`` would.
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
from mamori.prove.oracles import command, path, sql
from mamori.scan import ScanOptions, scan_targets

APPS = Path(__file__).parent / "apps"
UNSAFE = sandbox.unavailable_reason() is not None
"""No kernel sandbox here: the apps run as plain child processes (tests that need it skip)."""
PYTHON = Path(sys.executable)
"""The apps' interpreter (``--python``): the test apps pin nothing, their frameworks are here."""


def _findings(root: Path) -> list[Finding]:
    report = scan_targets([root], ScanOptions(deps=False, record=False, prioritize=False))
    return [f for f in report.findings if f.kind == "code"]


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(APPS / name, dest)
    return dest


def _proven(root: Path) -> dict[tuple[str, int], str]:
    found = _findings(root)
    proofs = prove_findings(root, found, python=PYTHON, unsafe=UNSAFE)
    return {
        (f.rule_id, f.location.line): p.status for f, p in zip(found, proofs, strict=True) if p is not None
    }


@pytest.mark.skipif(not shutil.which("true"), reason="needs a POSIX system")
def test_flask_app_proofs(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    got = _proven(_copy(tmp_path, "flask_app"))
    for rule in ("PY-SQLI", "PY-CMDI", "PY-PATH", "PY-REDIRECT", "PY-CODEI"):
        assert "proven" in {s for (r, _), s in got.items() if r == rule}, (rule, got)
    text = (APPS / "flask_app" / "app.py").read_text().splitlines()

    def at(snippet: str) -> int:
        return next(i + 1 for i, t in enumerate(text) if snippet in t)

    # request.values on a GET-only route goes in the query string; the shell line goes on after
    # the input; an upload's file name must pass an extension check; "../" removed only once;
    # a 404 handler that renders the URL is reached through a URL no route matches
    assert got[("PY-CMDI", at('os.popen("zip log.zip "'))] == "proven", got
    assert got[("PY-PATH", at('doc.save(os.path.join(HERE, "uploads", doc.filename))'))] == "proven", got
    assert got[("PY-PATH", at('open(HERE + "/static/" + name)'))] == "proven", got
    assert got[("PY-SSTI", at("render_template_string(page)"))] == "proven", got
    # the app lower-cases the input before the query: the payload survives it
    assert got[("PY-SQLI", at('request.args.get("name", "").lower()') + 1)] == "proven", got
    # the JSON view's "XSS" (a dict return is JSON, not HTML): when the analysis flags it, the
    # proof does not confirm it
    assert got.get(("PY-XSS", 25), "not flagged") in ("not flagged", "not_proven"), got


def test_fastapi_app_proofs(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    got = _proven(_copy(tmp_path, "fastapi_app"))
    assert got[("PY-SQLI", 19)] == "proven"
    assert "proven" in {s for (r, _), s in got.items() if r == "PY-XSS"}


def test_django_app_proofs(tmp_path: Path) -> None:
    pytest.importorskip("django")
    got = _proven(_copy(tmp_path, "django_app"))
    assert "proven" in {s for (r, _), s in got.items() if r == "PY-SQLI"}
    assert "proven" in {s for (r, _), s in got.items() if r == "PY-XSS"}


def _as_flagged(
    root: Path, file: str, source_line: int, sink_line: int, rule: str, cwe: str, source: str
) -> Finding:
    return Finding(
        kind="code",
        rule_id=rule,
        title="as if flagged",
        severity="high",
        location=Location(file, sink_line),
        cwe=(cwe,),
        trace=(TraceStep(file, source_line, f"{source} (source)"), TraceStep(file, sink_line, "sink (sink)")),
    )


def test_safe_twins_are_never_proven(tmp_path: Path) -> None:
    """The proof builder run on each safe route as if it had been flagged: nothing is proven."""
    pytest.importorskip("flask")
    root = _copy(tmp_path, "flask_app")
    text = (root / "app.py").read_text().splitlines()

    def line(snippet: str, after: int = 0) -> int:
        return next(i + 1 for i, t in enumerate(text) if i + 1 > after and snippet in t)

    safe = [
        ("users_safe", 'request.args.get("name"', "execute(", "PY-SQLI", "CWE-89", "flask.request.args"),
        ("hello_safe", 'request.form["who"]', "return f", "PY-XSS", "CWE-79", "flask.request.form"),
        ("ping_safe", "request.headers.get", "subprocess.run", "PY-CMDI", "CWE-78", "flask.request.headers"),
        ("download_safe", "request.cookies.get", "open(", "PY-PATH", "CWE-22", "flask.request.cookies"),
        ("upload_safe", "request.files", "doc.save(", "PY-PATH", "CWE-22", "flask.request.files"),
    ]
    findings = []
    for fn, src, sink, rule, cwe, source in safe:
        start = line(f"def {fn}(")
        findings.append(_as_flagged(root, "app.py", line(src, start), line(sink, start), rule, cwe, source))
    proofs = prove_findings(root, findings, python=PYTHON, unsafe=UNSAFE)
    assert [p.status for p in proofs if p is not None] == ["not_proven"] * 5, [p for p in proofs]


def test_prove_cli_json_and_tests(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    root = _copy(tmp_path, "flask_app")
    out = tmp_path / "pov"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mamori",
            "prove",
            str(root),
            "--format",
            "json",
            *(["--unsafe-run"] if UNSAFE else []),
            "--python",
            sys.executable,
            "--write-tests",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    proofs = [f["proof"] for f in data["findings"] if "proof" in f]
    proven = [p for p in proofs if p["status"] == "proven"]
    assert proven and all(p["request"]["curl"].startswith("curl ") for p in proven)
    assert all("/tmp/" not in json.dumps(p) for p in proofs)
    sqli = next(f for f in data["findings"] if f["rule_id"] == "PY-SQLI")
    assert any("exploitation poc: proven by a request" in r for r in sqli["priority"]["reasons"])
    # the written tests fail while the holes are open
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert run.returncode == 1 and " failed" in run.stdout, run.stdout[-2000:]


def test_unproven_code_finding_is_exploitation_none(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    root = _copy(tmp_path, "flask_app")
    report = scan_targets(
        [root], ScanOptions(deps=False, record=False, prove=True, prove_python=PYTHON, prove_unsafe=UNSAFE)
    )
    for f in report.findings:
        assert f.priority is not None
        reasons = " ".join(f.priority.reasons)
        if f.proof is not None and f.proof.status == "proven":
            assert "exploitation poc: proven" in reasons
        elif f.kind == "code":
            assert "exploitation none" in reasons


def test_sql_oracle_structure_not_presence() -> None:
    p = "k' OR 'k'='k"
    assert sql.changes_structure(f"SELECT 1 WHERE a = '{p}'", p, "k")
    assert not sql.changes_structure("SELECT 1 WHERE a = 'k'' OR ''k''=''k'", p, "k")  # escaped
    assert not sql.changes_structure("SELECT 1 WHERE a = ?", p, "k")  # parameterised


def test_command_and_path_oracles() -> None:
    assert command.runs_as_command("echo x;mqz", "mqz")
    assert not command.runs_as_command("echo 'x;mqz'", "mqz")
    assert path.leaves_folder("/srv/files/../mqz", "../mqz", "/")[0]
    assert not path.leaves_folder("/srv/files/mqz", "../mqz", "/")[0]
    # the app removed "../" once: the climb left in front of the canary still counts
    assert path.leaves_folder("/srv/files/../mqz", "....//mqz", "/", "mqz")[0]
    assert not path.leaves_folder("/srv/files/mqz", "....//mqz", "/", "mqz")[0]
    assert command.runs_as_command("zip log.zip x;mqz;_log.txt", "mqz")
    assert not command.runs_as_command("zip log.zip x;mqz_log.txt", "mqz")
    assert command.runs_as_command("ping -c1 x|mqz > out", "mqz")
    assert "x|" + "mqz" in command.payloads(command.Canary("mqz"))


@pytest.mark.skipif(
    UNSAFE, reason=f"needs a kernel sandbox ({sandbox.unavailable_detail()}); install bubblewrap"
)
def test_app_under_proof_is_contained(tmp_path: Path) -> None:
    """A hostile app's import-time code cannot write outside its scratch copy nor reach the host.

    The app still gets proven (its loopback works); the file it tries to write beside the
    project and the host server it tries to reach show nothing from outside.
    """
    pytest.importorskip("flask")
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    root = _copy(tmp_path, "flask_app")
    outside = tmp_path / "escaped.txt"
    hostile = (
        "import os, socket\n"
        f"os.system('touch {outside}')\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'leak')\n"
        "except OSError:\n"
        "    pass\n"
        f"open('{tmp_path / 'escaped2.txt'}', 'w').write('x') if os.access('{tmp_path}', os.W_OK) else None\n"
    )
    app = root / "app.py"
    app.write_text(hostile + app.read_text())
    try:
        got = _proven(root)
        try:
            conn, _ = server.accept()
            conn.close()
            reached = True
        except OSError:
            reached = False
    finally:
        server.close()
    assert "proven" in {s for (r, _), s in got.items() if r == "PY-SQLI"}, got
    assert not outside.exists() and not (tmp_path / "escaped2.txt").exists()
    assert not reached


def test_other_required_fields_are_sent_with_the_payload(tmp_path: Path) -> None:
    """A view that reads a second form field by subscript (KeyError → HTTP 400 without it) is
    proven by the precise request: the payload's field and the other one, nothing else."""
    pytest.importorskip("flask")
    root = _copy(tmp_path, "flask_app")
    found = [f for f in _findings(root) if f.rule_id == "PY-SQLI" and "INSERT" in (f.trace[-1].note or "")]
    assert len(found) == 1, found
    proof = prove_findings(root, found, python=PYTHON, unsafe=UNSAFE)[0]
    assert proof is not None and proof.status == "proven", proof
    request = proof.request or {}
    assert [name for name, _ in request["form"]] == ["user", "secret"], request
    assert dict(request["form"])["secret"] == "mamori"
    assert "cookie" not in request and "header" not in request, request
