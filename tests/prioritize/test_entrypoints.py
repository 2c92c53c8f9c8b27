"""Code findings: is the source reachable from a route, a command or another entry point?"""

from __future__ import annotations

from pathlib import Path

from mamori.model import Finding, Location, TraceStep
from mamori.prioritize import AssetContext, prioritize
from mamori.prioritize.entrypoints import code_reachability, entry_index


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _finding(path: str, line: int, source_line: int | None = None) -> Finding:
    trace = (
        (TraceStep(path, source_line, "request.args (source)"), TraceStep(path, line, "execute (sink)"))
        if source_line
        else ()
    )
    return Finding(
        kind="code",
        rule_id="PY-SQLI",
        title="SQL injection",
        severity="high",
        location=Location(path, line),
        cwe=("CWE-89",),
        trace=trace,
        fingerprint_basis=f"{path}{line}",
    )


FLASK = """\
from flask import Flask, request
app = Flask(__name__)

def lookup(db, name):
    return db.execute("SELECT * FROM t WHERE n = '%s'" % name)

@app.route("/users")
def users():
    return lookup(DB, request.args["n"])

def forgotten(db):
    name = request.args["n"]
    return db.execute("SELECT '%s'" % name)
"""


def test_route_and_its_callees_are_reachable_dead_code_is_not(tmp_path: Path) -> None:
    root = _write(tmp_path, {"web/app.py": FLASK})
    index = entry_index(root)
    state, why = code_reachability(_finding("web/app.py", 9, 9), index)
    assert state == "reachable" and "@app.route" in why
    assert code_reachability(_finding("web/app.py", 5), index)[0] == "reachable"  # via users()
    state, why = code_reachability(_finding("web/app.py", 13, 12), index)
    assert state == "unreachable" and "forgotten" in why


def test_cli_commands_main_guard_and_console_scripts(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "tool/cli.py": "import click\n\n@click.command()\ndef run():\n    helper()\n\ndef helper():\n    pass\n",
            "tool/script.py": "def go():\n    pass\n\nif __name__ == '__main__':\n    go()\n",
            "tool/entry.py": "def main():\n    pass\n",
            "pyproject.toml": '[project]\nname = "t"\n[project.scripts]\nt = "tool.entry:main"\n',
        },
    )
    index = entry_index(root)
    assert code_reachability(_finding("tool/cli.py", 8), index)[0] == "reachable"
    assert code_reachability(_finding("tool/script.py", 2), index)[0] == "reachable"
    assert code_reachability(_finding("tool/entry.py", 2), index)[0] == "reachable"


def test_wsgi_dispatch_through_the_constructor(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "svc.py": (
                "class App:\n"
                "    def __init__(self):\n"
                "        self.routes = {'/a': self.handle}\n"
                "    def handle(self, environ):\n"
                "        return environ['QUERY_STRING']\n"
                "    def __call__(self, environ, start_response):\n"
                "        return self.routes[environ['PATH_INFO']](environ)\n"
            )
        },
    )
    assert code_reachability(_finding("svc.py", 5), entry_index(root))[0] == "reachable"


def test_a_library_without_entry_points_is_unknown_not_lowered(tmp_path: Path) -> None:
    root = _write(tmp_path, {"lib/q.py": "def run(db, q):\n    return db.execute(q)\n"})
    assert code_reachability(_finding("lib/q.py", 2), entry_index(root)) == ("unknown", "")


def test_unreachable_code_finding_is_lowered_and_says_so(tmp_path: Path) -> None:
    root = _write(tmp_path, {"web/app.py": FLASK})
    live, dead = prioritize(
        [_finding("web/app.py", 9, 9), _finding("web/app.py", 13, 12)],
        root=root,
        context=AssetContext(sector="finance"),
    )
    assert live.priority and dead.priority
    assert live.reachability == "reachable" and dead.reachability == "unreachable"
    assert live.priority.score > dead.priority.score
    assert any("automatable no" in r for r in dead.priority.reasons)
    assert dead.status == "open"
