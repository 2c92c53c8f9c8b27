"""Proofs on servers without an in-process test client: aiohttp, Tornado, plain WSGI, http.server.

The app under proof runs its own server on the loopback of the sandbox's network namespace
(tests/prove/apps/*); each test scans the app, proves its findings, and runs the proof builder
on the safe twins (and on vulnerable routes the analysis does not flag) as if flagged.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamori import sandbox
from mamori.model import Finding, Location, TraceStep
from mamori.prove import prove_findings
from mamori.scan import ScanOptions, scan_targets

APPS = Path(__file__).parent / "apps"
UNSAFE = sandbox.unavailable_reason() is not None
PYTHON = Path(sys.executable)
"""The apps' interpreter (``--python``): the test apps pin nothing, their frameworks are here."""


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(APPS / name, dest)
    return dest


def _scan_and_prove(root: Path) -> dict[tuple[str, int], str]:
    report = scan_targets([root], ScanOptions(deps=False, record=False, prioritize=False))
    found = [f for f in report.findings if f.kind == "code"]
    proofs = prove_findings(root, found, python=PYTHON, unsafe=UNSAFE)
    return {
        (f.rule_id, f.location.line): p.status for f, p in zip(found, proofs, strict=True) if p is not None
    }


def _line(root: Path, file: str, snippet: str, after: int = 0) -> int:
    text = (root / file).read_text().splitlines()
    return next(i + 1 for i, t in enumerate(text) if i + 1 > after and snippet in t)


def _flagged(file: str, steps: list[tuple[int, str]], rule: str, cwe: str) -> Finding:
    """A finding as the analysis would report it (first step the source, last the sink)."""
    return Finding(
        kind="code",
        rule_id=rule,
        title="as if flagged",
        severity="high",
        location=Location(file, steps[-1][0]),
        cwe=(cwe,),
        trace=tuple(TraceStep(file, line, note) for line, note in steps),
    )


def _statuses(root: Path, findings: list[Finding]) -> list[str]:
    return [p.status if p else "none" for p in prove_findings(root, findings, python=PYTHON, unsafe=UNSAFE)]


def test_aiohttp_app(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")
    root = _copy(tmp_path, "aiohttp_app")
    got = _scan_and_prove(root)
    assert got[("PY-SQLI", _line(root, "server.py", "WHERE title = '"))] == "proven", got
    assert got[("PY-CMDI", _line(root, "server.py", '"nslookup " + host'))] == "proven", got

    def at(fn: str, src: str, sink: str, note: str, rule: str, cwe: str) -> Finding:
        start = _line(root, "server.py", f"def {fn}(")
        steps = [(_line(root, "server.py", src, start), f"{note} (source)")]
        return _flagged("server.py", [*steps, (_line(root, "server.py", sink, start), "sink")], rule, cwe)

    safe = [
        at("notes_safe", "request.query.get", "execute(", "$request.query", "PY-SQLI", "CWE-89"),
        at("lookup_safe", "request.post()", "subprocess.run", "$request.post", "PY-CMDI", "CWE-78"),
    ]
    assert _statuses(root, safe) == ["not_proven", "not_proven"]
    # a path segment ({name}) carries the payload: the analysis does not flag this one
    greet = at("greet", "match_info", "web.Response", "$request.match_info", "PY-XSS", "CWE-79")
    assert _statuses(root, [greet]) == ["proven"]


def test_tornado_app(tmp_path: Path) -> None:
    pytest.importorskip("tornado")
    root = _copy(tmp_path, "tornado_app")
    got = _scan_and_prove(root)
    assert got[("PY-SQLI", _line(root, "app.py", "LIKE '%\" + term"))] == "proven", got
    assert got[("PY-XSS", _line(root, "app.py", '"<p>" + msg'))] == "proven", got
    # the JSON-writing safe twin writes rows fetched with a bound parameter: not flagged
    assert ("PY-XSS", _line(root, "app.py", "self.write({", _line(root, "app.py", "SearchSafe"))) not in got

    def at(cls: str, src: str, sink: str, note: str, rule: str, cwe: str) -> Finding:
        start = _line(root, "app.py", f"class {cls}(")
        steps = [(_line(root, "app.py", src, start), f"{note} (source)")]
        return _flagged("app.py", [*steps, (_line(root, "app.py", sink, start), "sink")], rule, cwe)

    get_argument = "tornado.web.RequestHandler.get_argument"
    safe = [
        at("SearchSafeHandler", "get_argument", 'con.execute("SELECT', get_argument, "PY-SQLI", "CWE-89"),
        at("EchoSafeHandler", "get_body_argument", "self.write", get_argument, "PY-XSS", "CWE-79"),
        # the JSON-writing twin, flagged by hand: the proof does not confirm it either
        at("SearchSafeHandler", "get_argument", "self.write({", get_argument, "PY-XSS", "CWE-79"),
    ]
    assert _statuses(root, safe) == ["not_proven", "not_proven", "not_proven"]
    # a positional path group of the rule (def get(self, name)) carries the payload
    read = at("ReadHandler", "def get(self, name)", "open(", "name (route parameter)", "PY-PATH", "CWE-22")
    assert _statuses(root, [read]) == ["proven"]


def test_plain_wsgi_app(tmp_path: Path) -> None:
    root = _copy(tmp_path, "wsgi_app")
    got = _scan_and_prove(root)
    assert got[("PY-SQLI", _line(root, "wsgi.py", "WHERE name = '%s'"))] == "proven", got
    source = (_line(root, "wsgi.py", "def application("), "environ (WSGI environ) (source)")

    def at(branch: str, read: str, sink: str, rule: str, cwe: str) -> Finding:
        start = _line(root, "wsgi.py", f'path == "{branch}"')
        steps = [source, (_line(root, "wsgi.py", read, start), "read")]
        return _flagged("wsgi.py", [*steps, (_line(root, "wsgi.py", sink, start), "sink")], rule, cwe)

    safe = [
        at("/user-safe", "qs.get", "execute(", "PY-SQLI", "CWE-89"),
        at("/hello-safe", "qs.get", "body = ", "PY-XSS", "CWE-79"),
    ]
    assert _statuses(root, safe) == ["not_proven", "not_proven"]
    # the branch the sink is in decides the path (/hello, /agent); the header is read from HTTP_*
    vulnerable = [
        at("/hello", "qs.get", "body = ", "PY-XSS", "CWE-79"),
        at("/agent", "HTTP_USER_AGENT", "subprocess.run", "PY-CMDI", "CWE-78"),
    ]
    assert _statuses(root, vulnerable) == ["proven", "proven"]


def test_http_server_handler(tmp_path: Path) -> None:
    root = _copy(tmp_path, "httpserver_app")
    got = _scan_and_prove(root)
    assert got[("PY-SQLI", _line(root, "server.py", "WHERE name = '\" + item"))] == "proven", got
    start = _line(root, "server.py", '"/find-safe"')
    safe = _flagged(
        "server.py",
        [
            (
                _line(root, "server.py", "urlparse(self.path)"),
                "http.server.BaseHTTPRequestHandler.path (source)",
            ),
            (_line(root, "server.py", "params.get", start), "item = …"),
            (_line(root, "server.py", 'con.execute("SELECT', start), "sink"),
        ],
        "PY-SQLI",
        "CWE-89",
    )
    assert _statuses(root, [safe]) == ["not_proven"]


def test_written_tests_replay_on_loopback_and_pass_once_fixed(tmp_path: Path) -> None:
    """`--write-tests` for a Tornado app: the test fails while the hole is open, passes once fixed."""
    pytest.importorskip("tornado")
    root = _copy(tmp_path, "tornado_app")
    out = root / "pov"
    argv = [sys.executable, "-m", "mamori", "prove", str(root), "-f", "json", "--write-tests", str(out)]
    argv += ["--python", sys.executable]
    proc = subprocess.run([*argv, *(["--unsafe-run"] if UNSAFE else [])], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    written = (out / "test_mamori_pov_tornado.py").read_text()
    assert "X-XSRFToken" not in written  # the app does not ask for one

    def pytest_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)],
            capture_output=True,
            text=True,
            cwd=root,
        )

    before = pytest_run()
    assert before.returncode == 1 and "2 failed" in before.stdout, before.stdout[-2000:]
    app = root / "app.py"
    app.write_text(app.read_text().replace('"<p>" + msg + "</p>"', '"<p>" + html.escape(msg) + "</p>"'))
    after = pytest_run()
    assert "1 failed, 1 passed" in after.stdout, after.stdout[-2000:]


def test_tornado_subclass_with_xsrf_cookies(tmp_path: Path) -> None:
    """A subclass of Application is found; its XSRF check gets the token any client can obtain."""
    pytest.importorskip("tornado")
    root = _copy(tmp_path, "tornado_xsrf_app")
    got = _scan_and_prove(root)
    assert got[("PY-XSS", _line(root, "app.py", '"<div>" + text'))] == "proven", got


_HAND_PARSED = """\
import http.server
import re
import sqlite3
import urllib.parse


def init():
    global connection
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    connection.execute("CREATE TABLE users(id INTEGER, name TEXT)")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        params = dict(
            (m.group("p"), urllib.parse.unquote(",".join(re.findall(r"%s=([^&]+)" % m.group("p"), query))))
            for m in re.finditer(r"(?P<p>\\w+)=", query)
        )
        cursor = connection.cursor()
        body = "-"
        if "id" in params:
            cursor.execute("SELECT name FROM users WHERE id=" + params["id"])
            body = str(cursor.fetchall())
        elif "name" in params:
            cursor.execute("SELECT id FROM users WHERE name='" + params["name"] + "'")
            body = str(cursor.fetchall())
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())


if __name__ == "__main__":
    init()
    http.server.HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
"""


def test_http_server_that_parses_its_own_query_after_init(tmp_path: Path) -> None:
    """DSVW's shape: the handler parses ``self.path`` by hand (``unquote``, so a ``+`` stays a
    ``+``), reads each parameter from its own dict in an elif chain, and uses the database
    connection that ``init()`` — called by the main block before it serves — opens."""
    root = tmp_path / "hand_parsed"
    root.mkdir()
    (root / "server.py").write_text(_HAND_PARSED)
    got = _scan_and_prove(root)
    assert got[("PY-SQLI", _line(root, "server.py", "WHERE id="))] == "proven", got
    assert got[("PY-SQLI", _line(root, "server.py", "WHERE name='"))] == "proven", got
