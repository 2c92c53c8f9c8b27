"""Fix jobs on two Celery worker processes through a real Redis broker on loopback.

The service (the real Watcher, serving) sends each project's fix stage to the broker named by
``[fix] broker``; two ``mamori watch worker`` processes (each its own MAMORI_HOME: no shared
database) clone the project from its remote at the job's commit, verify in the sandbox and
answer; the service proposes. Both projects get their merge request, each fix ran on a
different worker, and a worker's message that is not a fix result is refused.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.watch.conftest import write_fleet
from tests.watch.world import TOKEN, World, load_advisory, make_project, now_iso

from mamori.errors import MamoriError
from mamori.sandbox import unavailable_reason
from mamori.watch import Watcher, load_fleet

celery = pytest.importorskip("celery", reason="Celery is not installed (pip install 'mamori[distributed]')")
pytestmark = [
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="no redis-server (apt-get install redis-server)"
    ),
    pytest.mark.skipif(unavailable_reason() is not None, reason=f"no sandbox: {unavailable_reason()}"),
]
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: object, seconds: float = 120.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if what():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
                    c.sendall(b"PING\r\n")
                    return c.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        assert _wait(up, 20), "redis-server did not start"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def workers(broker: str, world: World, tmp_path: Path) -> Iterator[list[str]]:
    """Two worker processes (names ``w1@host``, ``w2@host``), ready."""
    yield from _workers(broker, world, tmp_path)


def _workers(
    broker: str, world: World, tmp_path: Path, procs: list[subprocess.Popen[bytes]] | None = None
) -> Iterator[list[str]]:
    from mamori.watch.distributed import make_app

    procs = procs if procs is not None else []
    for name in ("w1", "w2"):
        home = tmp_path / f"home-{name}"
        env = {
            **os.environ,
            "MAMORI_HOME": str(home),
            "PYTHONPATH": str(SRC),
            "PIP_INDEX_URL": f"{world.url}/simple/",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "mamori", "watch", "worker", "--broker", broker, "--name", name],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"{name}.log").open("w"),
                start_new_session=True,  # a whole worker can be killed like a lost machine
            )
        )
    app = make_app(broker)
    try:
        names: list[str] = []

        def ready() -> bool:
            names[:] = sorted(k for reply in app.control.ping(timeout=1.0) for k in reply)
            return len(names) == 2

        assert _wait(ready, 90), [p.poll() for p in procs]
        yield names
    finally:
        app.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_two_workers_each_verify_a_project_and_the_service_proposes(
    world: World, broker: str, workers: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    blocks = []
    for name in ("alpha", "beta"):
        _w, bare = make_project(tmp_path, name, "pyyaml==5.3\n", seconds=3.0)
        world.repos[f"acme/{name}"] = bare
        blocks.append(
            f'[[project]]\nname = "{name}"\ngit = "{bare.as_uri()}"\nbranch = "main"\n'
            f'github = "acme/{name}"\nauto_fix = ["act", "attend", "track*", "track"]\n'
        )
    fleet = write_fleet(
        tmp_path / "watch.toml", world, "\n".join(blocks), extra=f'broker = "{broker}"\ntimeout = 600'
    )
    lines: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        watcher = Watcher(load_fleet(fleet), say=lines.append)
        watcher.stop = stop
        watcher.workers = 2
        try:
            watcher.run(interval=0.5)
        finally:
            watcher.close()

    runner = threading.Thread(target=serve)
    runner.start()
    try:
        assert _wait(lambda: any(line.startswith("cycle:") for line in lines)), lines
        stamp = now_iso()
        world.publish("PyPI", {**load_advisory("PYSEC-2021-142"), "published": stamp, "modified": stamp})
        assert _wait(lambda: set(world.pulls) == {"acme/alpha", "acme/beta"}, 300), lines
    finally:
        stop.set()
        runner.join(120)
    fixed_by = sorted(line.rsplit(" ", 1)[-1] for line in lines if " fixed by worker " in line)
    assert fixed_by == workers, lines  # one project each: the two workers both worked
    for repo in ("acme/alpha", "acme/beta"):
        (pull,) = world.pulls[repo]
        assert "verified" in pull["body"].lower()
    assert not any("in the sandbox" in line and "fixing" in line for line in lines)  # none ran here


def test_a_worker_answer_that_is_not_a_fix_result_is_refused() -> None:
    from mamori.watch.distributed import parse_result

    for bad in (None, [], {"results": "all good"}, {"results": [1]}):
        with pytest.raises(MamoriError):
            parse_result(bad)
    ok = parse_result(
        {"results": [{"finding_id": "x", "status": "verified", "notes": ["n", 3]}], "worker": "w"}
    )
    assert ok.results[0].notes == ("n",) and ok.verification.baseline_passed is None


def test_a_worker_killed_mid_job_loses_nothing_and_proposes_once(
    world: World, broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from mamori.watch.distributed import make_app

    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    procs: list[subprocess.Popen[bytes]] = []
    running = _workers(broker, world, tmp_path, procs)
    names = next(running)
    _w, bare = make_project(tmp_path, "alpha", "pyyaml==5.3\n", seconds=6.0)
    world.repos["acme/alpha"] = bare
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "alpha"\ngit = "{bare.as_uri()}"\nbranch = "main"\n'
        'github = "acme/alpha"\nauto_fix = ["act", "attend", "track*", "track"]\n',
        extra=f'broker = "{broker}"\ntimeout = 20',
    )
    lines: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        watcher = Watcher(load_fleet(fleet), say=lines.append)
        watcher.stop = stop
        try:
            watcher.run(interval=0.5)
        finally:
            watcher.close()

    runner = threading.Thread(target=serve)
    runner.start()
    app = make_app(broker)
    try:
        assert _wait(lambda: any(line.startswith("cycle:") for line in lines)), lines
        stamp = now_iso()
        world.publish("PyPI", {**load_advisory("PYSEC-2021-142"), "published": stamp, "modified": stamp})
        busy: list[str] = []

        def taken() -> bool:
            active = app.control.inspect(timeout=1.0).active() or {}
            busy[:] = [w for w, tasks in active.items() if tasks]
            return bool(busy)

        assert _wait(taken, 120), lines
        victim = names.index(busy[0])
        os.killpg(procs[victim].pid, signal.SIGKILL)  # the worker and its pool, mid-job
        survivor = names[1 - victim]
        assert _wait(lambda: "acme/alpha" in world.pulls, 240), lines
        time.sleep(3)  # a second proposal would come now, if one were coming
    finally:
        app.close()
        stop.set()
        runner.join(120)
        for _ in running:
            pass
    assert len(world.pulls["acme/alpha"]) == 1
    assert any("did not complete" in line for line in lines), lines  # the lost job was retried
    assert [line.rsplit(" ", 1)[-1] for line in lines if " fixed by worker " in line] == [survivor]
