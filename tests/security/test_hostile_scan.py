"""`mamori scan` on hostile projects: every input below becomes a listed error, the report is
still written, and the process stays within a 3 GiB address space and 60 s (issue 11).

Each test runs the real CLI in a subprocess on real files, under ``RLIMIT_AS`` = 3 GiB; the
peak RSS of that process (``os.wait4`` in a small launcher, not pytest) is in each failure message. Run alone with
``pytest tests/security``.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LIMIT_AS = 3 * 1024**3
TIMEOUT = 60.0
SECRET = "hunter2-d0-not-echo"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    peak_rss_mb: float
    report: dict[str, Any] | None

    def errors(self) -> list[dict[str, Any]]:
        assert self.report is not None, f"no report written (exit {self.code}): {self.err[-2000:]}"
        return list(self.report.get("errors", []))

    def __str__(self) -> str:
        return f"exit {self.code}, peak RSS {self.peak_rss_mb:.0f} MB, stderr: {self.err[-1500:]}"


# The CLI runs as the child of a small launcher, not of pytest: a child forked from pytest
# starts with pytest's resident pages (hundreds of MB late in the suite), and Linux keeps that
# in the child's peak RSS across exec. The launcher sets the limit, enforces the timeout and
# reports the CLI's own exit status and peak RSS.
_LAUNCHER = """
import os, resource, signal, sys, time
limit, timeout, result = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "mamori", *sys.argv[4:]])
start = time.monotonic()
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() - start > timeout:
        os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.05)
with open(result, "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_cli(*args: str | Path, cwd: Path, report: Path | None = None) -> Outcome:
    """``python -m mamori ARGS`` under the judge's limits; its outcome and peak RSS."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    out_path, err_path, result = cwd / ".stdout", cwd / ".stderr", cwd / ".result"
    result.unlink(missing_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(LIMIT_AS), str(TIMEOUT), str(result), *map(str, args)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT + 60,
            check=False,
        )
    code_text, rss_kib = result.read_text(encoding="utf-8").split()
    data = None
    if report is not None and report.exists():
        data = json.loads(report.read_text(encoding="utf-8"))
    return Outcome(
        int(code_text),
        out_path.read_text(encoding="utf-8", errors="replace"),
        err_path.read_text(encoding="utf-8", errors="replace"),
        int(rss_kib) / 1024,
        data,
    )


@pytest.fixture
def db(mamori_home: Path, tmp_path: Path) -> Path:
    """An advisory database with one advisory for requests < 2.31.0 (its title hostile too)."""
    osv = tmp_path / "osv"
    osv.mkdir()
    record = {
        "id": "GHSA-test-0001",
        "modified": "2024-01-01T00:00:00Z",
        "summary": "title [/x] with \x1b[31mescape\x1b[0m \x1b]0;pwned\x07",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31.0"}]}],
            }
        ],
    }
    (osv / "GHSA-test-0001.json").write_text(json.dumps(record), encoding="utf-8")
    done = run_cli("db", "import", osv, cwd=tmp_path)
    assert done.code == 0, done
    return mamori_home


def scan(project: Path, *extra: str) -> Outcome:
    report = project.parent / "report.json"
    report.unlink(missing_ok=True)
    args = ["scan", project, "--offline", "--no-record", "-f", "json", "-o", report, *extra]
    return run_cli(*args, cwd=project.parent, report=report)


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text("requests==2.0.0\n", encoding="utf-8")
    (root / "app.py").write_text("import requests\n\nrequests.get('https://example.org')\n", encoding="utf-8")
    return root


def assert_survived(outcome: Outcome) -> None:
    assert outcome.code in (0, 1, 2), outcome  # not 139 (C stack), not killed by the judge
    ids = [f.get("rule_id") or f.get("id") for f in (outcome.report or {}).get("findings", [])]
    assert outcome.report is not None, outcome
    assert any("GHSA-test-0001" in json.dumps(f) for f in outcome.report["findings"]), ids


def error_for(outcome: Outcome, path: str) -> dict[str, Any]:
    found = [e for e in outcome.errors() if e["path"] == path]
    assert found, f"no error listed for {path}: {outcome.errors()}"
    return found[0]


def test_deeply_nested_parentheses_are_a_listed_error(db: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "deep.py").write_text("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n", encoding="utf-8")
    outcome = scan(root)
    assert_survived(outcome)
    assert "nested" in error_for(outcome, "deep.py")["message"]


def test_a_200k_term_expression_is_survived(db: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "long.py").write_text("x = " + " + ".join(["a"] * 200_000) + "\n", encoding="utf-8")
    (root / "long_or.py").write_text("x = " + " or ".join(["a"] * 200_000) + "\n", encoding="utf-8")
    outcome = scan(root)
    assert_survived(outcome)


@pytest.mark.parametrize("name", ["mamori.toml", "pyproject.toml"])
def test_a_100k_deep_toml_config_is_a_listed_error(db: Path, tmp_path: Path, name: str) -> None:
    root = project(tmp_path)
    head = '[project]\nname = "x"\n' if name == "pyproject.toml" else ""
    (root / name).write_text(head + "a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    outcome = scan(root)
    assert_survived(outcome)
    assert "nest" in error_for(outcome, name)["message"]


@pytest.mark.parametrize("code", ["--code", "--no-code"])
def test_directory_symlink_loops_do_not_hang_any_walk(db: Path, tmp_path: Path, code: str) -> None:
    root = project(tmp_path)
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("import requests\n", encoding="utf-8")
    os.symlink(".", root / "a")
    os.symlink("..", root / "pkg" / "up")
    os.symlink("/", root / "slash")
    outcome = scan(root, code)  # --no-code: the reachability walk lists the files itself
    assert_survived(outcome)
    # neither is a gap nor an error: the loop's folder was walked once, "/" is not the project's
    not_walked = {n["path"]: n["reason"] for n in outcome.report["coverage"].get("not_walked", [])}  # type: ignore[index, union-attr]
    assert "symlink loop" in not_walked["a"]
    assert "outside the project" in not_walked["slash"]
    assert not {"a", "slash", "pkg/up"} & {e["path"] for e in outcome.errors()}
    finding = next(f for f in outcome.report["findings"] if "GHSA-test-0001" in json.dumps(f))  # type: ignore[index]
    assert "reachab" in json.dumps(finding)


def test_a_30mb_package_lock_of_empty_objects_is_refused_in_bounded_memory(db: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    body = ",".join(["{}"] * (30 * 1024 * 1024 // 3))
    (root / "package-lock.json").write_text(
        '{"lockfileVersion": 3, "packages": [' + body + "]}", encoding="utf-8"
    )
    outcome = scan(root)
    assert_survived(outcome)
    assert "package-lock.json" in {e["path"] for e in outcome.errors()}
    # decoded, this file took 2.9 GB (a hundred bytes per byte of input); refused, it is read once
    assert outcome.peak_rss_mb < 512, outcome


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("package-lock.json", "[" * 1_000_000 + "]" * 1_000_000),
        ("composer.lock", '{"packages": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("Pipfile.lock", '{"default": ' + "{" * 100_000 + "}" * 100_000 + "}"),
    ],
)
def test_deep_json_lockfiles_are_listed_errors(db: Path, tmp_path: Path, name: str, text: str) -> None:
    root = project(tmp_path)
    (root / name).write_text(text, encoding="utf-8")
    outcome = scan(root)
    assert_survived(outcome)
    message = error_for(outcome, name)["message"]
    assert "deep" in message or "not parsed" in message, message


def test_a_fifo_or_dev_zero_named_like_a_lockfile_is_never_opened(db: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    fifo = root / "package-lock.json"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", root / "poetry.lock")
    os.mkfifo(root / "pyproject.toml")
    os.mkfifo(root / "fifo.py")
    outcome = scan(root)  # opening a FIFO for reading would block until the judge kills it
    assert_survived(outcome)
    for name in ("package-lock.json", "poetry.lock", "fifo.py"):
        assert "not a regular file" in error_for(outcome, name)["message"]
    with pytest.raises(OSError) as no_reader:  # nobody holds the FIFO open for reading either
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert no_reader.value.errno == errno.ENXIO


@pytest.mark.parametrize("form", ["-r ../netrc", "-r {abs}", "-c ../netrc", "--requirement=../netrc"])
def test_an_include_leaving_the_project_is_never_echoed(db: Path, tmp_path: Path, form: str) -> None:
    root = project(tmp_path)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine example.org login bob password {SECRET}\n", encoding="utf-8")
    include = form.format(abs=netrc)
    (root / "requirements-dev.txt").write_text(f"{include}\nflask==1.0\n", encoding="utf-8")
    outcome = scan(root)
    assert_survived(outcome)
    table = run_cli("scan", root, "--offline", "--no-record", cwd=tmp_path)
    for text in (outcome.out, outcome.err, json.dumps(outcome.report), table.out, table.err):
        assert SECRET not in text
        assert "machine example.org" not in text
    if "{abs}" not in form:  # a relative include is named as written, never by this machine's path
        assert str(tmp_path) not in json.dumps(outcome.errors())


def test_terminal_output_escapes_control_sequences_and_markup(db: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    odd = root / "[" / "x]\x1b[2J"  # the path reads [/x]<ESC>[2J
    odd.mkdir(parents=True)
    (odd / "requirements.txt").write_text("requests==2.1.0\n", encoding="utf-8")
    table = run_cli("scan", root, "--offline", "--no-record", cwd=tmp_path)
    assert table.code == 1, table
    assert "\x1b" not in table.out + table.err
    assert "\x07" not in table.out + table.err
    assert "\\x1b" in table.out  # shown as an escape, never obeyed
    assert "title [/x] with" in table.out  # markup in advisory text printed as text
    missing = run_cli("scan", tmp_path / "[/x]" / "missing\x1b[2J", "--offline", cwd=tmp_path)
    assert missing.code == 2, missing
    assert "Traceback" not in missing.err
    assert "[/x]" in missing.err
    assert "\x1b" not in missing.err


def test_concurrent_db_imports_are_serialised_and_neither_is_lost(mamori_home: Path, tmp_path: Path) -> None:
    folders = []
    for n in range(2):
        folder = tmp_path / f"osv{n}"
        folder.mkdir()
        for i in range(300):
            record = {
                "id": f"GHSA-c{n}-{i:04d}",
                "modified": "2024-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": f"pkg{n}-{i}"}, "versions": ["1.0"]}],
            }
            (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
        folders.append(folder)
    env = {**os.environ, "NO_COLOR": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mamori", "db", "import", str(f)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for f in folders
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    lock = tmp_path / "lock.txt"
    lock.write_text("".join(f"pkg{n}-{i}==1.0\n" for n in range(2) for i in (0, 299)), encoding="utf-8")
    root = tmp_path / "p"
    root.mkdir()
    (root / "requirements.txt").write_text(lock.read_text(), encoding="utf-8")
    outcome = scan(root, "--no-code")
    assert outcome.report is not None, outcome
    found = {f["advisory"]["id"] for f in outcome.report["findings"] if f.get("advisory")}
    assert {"GHSA-c0-0000", "GHSA-c0-0299", "GHSA-c1-0000", "GHSA-c1-0299"} <= found, found


def test_a_30mb_pnpm_lock_of_empty_mappings_is_refused_before_it_is_composed(
    db: Path, tmp_path: Path
) -> None:
    root = project(tmp_path)
    (root / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\npackages:\n" + "  - {}\n" * 4_300_000, encoding="utf-8"
    )
    outcome = scan(root)
    assert_survived(outcome)
    assert "refused before building" in error_for(outcome, "pnpm-lock.yaml")["message"]
    # composed, these four million nodes took about 1.5 GB; judged from the event stream, none is built
    assert outcome.peak_rss_mb < 512, outcome


def test_a_lockfile_naming_a_package_with_a_lone_surrogate_stops_no_output(db: Path, tmp_path: Path) -> None:
    """``"node_modules/lo\\ud800dash"`` in a package-lock.json stopped every format of a scan and
    `mamori sbom` with a traceback (the purl could not be encoded)."""
    root = project(tmp_path)
    (root / "package-lock.json").write_text(
        '{"name": "x", "lockfileVersion": 3, "packages": {"": {}, '
        '"node_modules/lo\\ud800dash": {"version": "4.17.\\udfff15"}}}',
        encoding="ascii",
    )
    for fmt in ("json", "sarif", "cyclonedx", "openvex", "table"):
        out = tmp_path / f"report.{fmt}"
        run = run_cli("scan", root, "--offline", "-f", fmt, "-o", out, cwd=tmp_path, report=None)
        assert "Traceback" not in run.err and run.code in (0, 1, 3), (fmt, run)
        out.read_text(encoding="utf-8")
    sbom = run_cli("sbom", root, "-o", tmp_path / "bom.json", cwd=tmp_path, report=None)
    assert "Traceback" not in sbom.err and sbom.code == 0, sbom
