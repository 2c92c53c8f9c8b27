"""The sandbox that project commands run in holds against a hostile project (real bubblewrap).

Each test runs real code inside a real sandbox and checks the effect from outside: files that
must not appear, a host server that must not be reached, variables that must not be seen.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.sandbox import (
    NO_SANDBOX,
    Sandbox,
    SandboxUnavailable,
    clean_env,
    clean_stale,
    run,
    scratch_dir,
    unavailable_detail,
    unavailable_reason,
)
from mamori.sandbox._scratch import MARKER

needs_bwrap = pytest.mark.skipif(
    unavailable_reason() is not None,
    reason=f"bubblewrap cannot make a sandbox here ({unavailable_detail()}); install the Debian package bubblewrap",
)
PY = Path(sys.executable)


def _py(sb: Sandbox, code: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return run(sb, ["python", "-c", code], timeout=120, **kw)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "scratch" / "project"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def host_server() -> Iterator[int]:
    """A TCP server on the host's 127.0.0.1 that answers b"host" to anyone who connects."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"host")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


@needs_bwrap
def test_a_project_test_cannot_write_outside_the_scratch_copy(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-marker"
    home_marker = Path.home() / f".mamori-sandbox-escape-{os.getpid()}"
    (project / "test_escape.py").write_text(
        "import os\n"
        "def test_escape():\n"
        f"    os.system('touch {outside} {home_marker} /tmp-escape-{os.getpid()}')\n"
        f"    os.system('echo inside > {project / 'written-inside'}')\n"
        "    try:\n"
        f"        open({str(outside)!r}, 'w').write('x')  # lands in the private /tmp, if anywhere\n"
        "    except OSError as exc:\n"
        "        print('refused:', exc)\n",
        encoding="utf-8",
    )
    proc = run(
        Sandbox(project, python=PY),
        ["python", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"],
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not outside.exists()
    assert not home_marker.exists()
    assert not Path(f"/tmp-escape-{os.getpid()}").exists()
    # The scratch copy itself is writable: that is where the project's tests work.
    assert (project / "written-inside").read_text(encoding="utf-8") == "inside\n"


@needs_bwrap
def test_the_interpreter_is_mounted_read_only(project: Path) -> None:
    target = Path(sys.prefix) / f"mamori-sandbox-write-{os.getpid()}"
    proc = _py(Sandbox(project, python=PY), f"open({str(target)!r}, 'w')")
    assert proc.returncode != 0
    assert "Read-only file system" in proc.stderr or "Permission denied" in proc.stderr
    assert not target.exists()


@needs_bwrap
def test_the_users_home_and_other_folders_are_not_visible(project: Path) -> None:
    # A file in the host's temp folder and one beside the project are not in the sandbox.
    fd, secret = tempfile.mkstemp(prefix="mamori-host-secret-")
    os.close(fd)
    beside = project.parent / "beside.txt"
    beside.write_text("secret", encoding="utf-8")
    try:
        code = (
            "import os, json\n"
            "try:\n"
            "    shadow = open('/etc/shadow').read()\n"
            "except OSError:\n"
            "    shadow = ''\n"
            f"print(json.dumps([os.path.exists({secret!r}), os.path.exists({str(beside)!r}), "
            "os.path.exists('/root/.bash_history'), shadow]))\n"
        )
        proc = _py(Sandbox(project, python=PY), code)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == [False, False, False, ""]
    finally:
        os.unlink(secret)


@needs_bwrap
def test_no_network_the_hosts_loopback_is_unreachable(project: Path, host_server: int) -> None:
    code = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(5)\n"
        "try:\n"
        f"    s.connect(('127.0.0.1', {host_server})); print('reached', s.recv(4))\n"
        "except OSError as exc:\n"
        "    print('refused', exc)\n"
    )
    inside = _py(Sandbox(project, python=PY), code)
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.startswith("refused"), inside.stdout
    # The same code with the network shared reaches the server: the test can tell the two apart.
    shared = _py(Sandbox(project, python=PY, network=True), code)
    assert "reached b'host'" in shared.stdout, shared.stdout + shared.stderr


@needs_bwrap
def test_no_network_has_only_loopback_and_it_works(project: Path) -> None:
    code = (
        "import socket, threading, os\n"
        "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n"
        "port = srv.getsockname()[1]\n"
        "t = threading.Thread(target=lambda: srv.accept()[0].sendall(b'own')); t.start()\n"
        "c = socket.create_connection(('127.0.0.1', port), timeout=5); print(c.recv(3).decode())\n"
        "print(sorted(name for _i, name in socket.if_nameindex()))\n"
    )
    proc = _py(Sandbox(project, python=PY), code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "own"
    assert lines[1] == "['lo']"


@needs_bwrap
def test_the_environment_is_an_allow_list(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "fake-aws-secret",
        "GITHUB_TOKEN": "ghp_fake",
        "MAMORI_HOME": "/somewhere/mamori",
        "MAMORI_LLM_API_KEY": "fake-llm-key",
        "SSH_AUTH_SOCK": "/run/fake-agent.sock",
        "HTTPS_PROXY": "http://user:pass@proxy:3128",
        "PYTHONPATH": "/somewhere/else",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    proc = _py(
        Sandbox(project, python=PY, env={"EXTRA": "given"}),
        "import os, json; print(json.dumps(dict(os.environ)))",
    )
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    for key, value in secrets.items():
        assert key not in env
        assert value not in proc.stdout
    assert env["EXTRA"] == "given"
    assert env["LC_ALL"] == "C.UTF-8"
    assert set(env) <= {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TERM", "PWD", "LC_ALL", "EXTRA"} | {
        k for k in env if k.startswith("LC_")
    }
    assert env["PATH"].split(os.pathsep)[0] == str(PY.parent)


def test_clean_env_keeps_only_the_allow_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake")
    monkeypatch.setenv("PATH", f"relative/bin{os.pathsep}/usr/bin")
    env = clean_env(tmp_path, {"PIP_INDEX_URL": "https://index.example/simple"})
    assert "GITHUB_TOKEN" not in env
    assert env["HOME"] == str(tmp_path)
    assert env["PATH"] == "/usr/bin"  # a relative entry would find the project's own binaries
    assert env["PIP_INDEX_URL"] == "https://index.example/simple"


@needs_bwrap
def test_home_is_a_scratch_folder_and_tmp_is_private(project: Path) -> None:
    fd, host_file = tempfile.mkstemp(prefix="mamori-host-tmp-")
    os.close(fd)
    marker = f"mamori-sandbox-tmp-{os.getpid()}"
    try:
        code = (
            "import os, json\n"
            f"open('/tmp/{marker}', 'w').write('x')\n"
            "open(os.path.join(os.environ['HOME'], '.netrc'), 'w').write('machine x')\n"
            f"print(json.dumps([os.environ['HOME'], os.path.exists({host_file!r}), sorted(os.listdir('/tmp'))]))\n"
        )
        proc = _py(Sandbox(project, python=PY), code)
        assert proc.returncode == 0, proc.stderr
        home, saw_host_file, listing = json.loads(proc.stdout)
        assert home == "/tmp/home" and home != str(Path.home())
        assert saw_host_file is False
        assert marker in listing
        assert not (Path(tempfile.gettempdir()) / marker).exists()
        assert (
            not (Path.home() / ".netrc").exists() or "machine x" not in (Path.home() / ".netrc").read_text()
        )
    finally:
        os.unlink(host_file)


@needs_bwrap
def test_no_capabilities_even_when_mamori_runs_as_root(project: Path) -> None:
    proc = run(
        Sandbox(project), ["/bin/sh", "-c", "grep ^CapEff /proc/self/status; mount -o remount,rw / 2>&1"]
    )
    assert "CapEff:\t0000000000000000" in proc.stdout


@needs_bwrap
def test_a_timeout_kills_the_sandbox(project: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run(Sandbox(project), ["/bin/sh", "-c", "sleep 60 & sleep 60"], timeout=1)


def test_without_bubblewrap_run_refuses_unless_unsafe(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_BWRAP", str(project / "no-such-bwrap"))
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake")
    assert unavailable_reason() == NO_SANDBOX
    assert "no-such-bwrap" in (unavailable_detail() or "")
    with pytest.raises(SandboxUnavailable, match="install bubblewrap or pass --unsafe-run-tests"):
        run(Sandbox(project), ["/bin/true"])
    proc = run(
        Sandbox(project, unsafe=True),
        [sys.executable, "-c", "import os; print('GITHUB_TOKEN' in os.environ)"],
    )
    assert proc.stdout.strip() == "False"  # unsafe still scrubs the environment


def test_stale_scratch_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    live = scratch_dir("mamori-fix-", tmp_path)
    dead = scratch_dir("mamori-fix-", tmp_path)
    # A process that has exited: its pid is not alive any more.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (dead / MARKER).write_text(f"{gone.stdout.strip()} 1\n", encoding="ascii")
    reused = scratch_dir("mamori-fix-", tmp_path)
    (reused / MARKER).write_text(f"{os.getpid()} 1\n", encoding="ascii")  # our pid, another start time
    old_unmarked = tmp_path / "mamori-fix-old"
    (old_unmarked / "project").mkdir(parents=True)
    then = time.time() - 2 * 3600
    os.utime(old_unmarked, (then, then))
    fresh_unmarked = tmp_path / "mamori-fix-fresh"
    fresh_unmarked.mkdir()
    other = tmp_path / "someone-elses"
    other.mkdir()
    os.utime(other, (then, then))

    assert clean_stale("mamori-fix-", tmp_path) == 3
    assert live.is_dir() and fresh_unmarked.is_dir() and other.is_dir()
    assert not dead.exists() and not reused.exists() and not old_unmarked.exists()
