"""The serving service keeps reacting while a fix runs: the feeds are polled in their own thread
and the quick jobs (match, re-prioritise, notify) have a lane of their own, so a KEV addition is
escalated while another project's sandboxed tests are still running (the 50-project benchmark
showed every poll waiting until the queue drained)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from tests.watch.conftest import write_fleet
from tests.watch.world import TOKEN, World, kev_entry, load_advisory, make_project, now_iso

from mamori.watch import Watcher, load_fleet


def _fresh(name: str) -> dict:  # type: ignore[type-arg]
    stamp = now_iso()
    return {**load_advisory(name), "published": stamp, "modified": stamp}


def _wait(what: object, seconds: float = 120.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if what():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_kev_addition_is_escalated_while_another_project_is_being_fixed(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    # "app" holds pyyaml 5.3 and is notify-only; "slow" holds jinja2 2.11.2 and tests that take 4 s
    _w, app = make_project(tmp_path, "app", "pyyaml==5.3\n")
    _w, slow = make_project(tmp_path, "slow", "jinja2==2.11.2\n", seconds=4.0)
    world.repos["acme/app"], world.repos["acme/slow"] = app, slow
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f"""
[[project]]
name = "app"
git = "{app.as_uri()}"
branch = "main"
policy = "notify-only"
asset = {{ sector = "electric-power", criticality = "high", exposure = "internet" }}

[[project]]
name = "slow"
git = "{slow.as_uri()}"
branch = "main"
github = "acme/slow"
auto_fix = ["act", "attend", "track*", "track"]
""",
    )
    lines: list[str] = []
    stop = threading.Event()

    def serve() -> None:  # the watcher's connections belong to the thread that makes it
        watcher = Watcher(load_fleet(fleet), say=lines.append)
        watcher.stop = stop
        try:
            watcher.run(interval=0.5)
        finally:
            watcher.close()

    runner = threading.Thread(target=serve)
    runner.start()
    try:
        assert _wait(lambda: any(line.startswith("cycle:") for line in lines)), lines
        world.publish("PyPI", _fresh("PYSEC-2021-142"))
        assert _wait(lambda: any(line.startswith("notified: app: ") for line in lines)), lines
        world.publish("PyPI", _fresh("PYSEC-2021-66"))
        assert _wait(lambda: any(line.startswith("slow: fixing") for line in lines)), lines
        with world.lock:
            world.kev.append(kev_entry("CVE-2020-14343"))

        def escalated() -> bool:
            with world.lock:
                return any(
                    h["body"].get("event") == "escalated" and h["body"].get("project") == "app"
                    for h in world.hooks
                )

        assert _wait(escalated), lines
        with world.lock:
            assert world.pulls.get("acme/slow", []) == [], "the escalation waited for the other project's fix"
        # and the fix that was running still ends in its one proposal
        assert _wait(lambda: len(world.pulls.get("acme/slow", [])) == 1), lines
    finally:
        stop.set()
        runner.join(120)
    assert not runner.is_alive()
