"""Crash safety: the real service, killed with SIGKILL at every step of the loop and restarted,
loses no event and never opens a second branch or merge request for the same fix.

Each case runs ``python -m mamori watch run --once`` as a child process with
``MAMORI_WATCH_CRASH_AT`` naming the point where it kills itself (``os.kill(pid, SIGKILL)``:
no cleanup, exactly a ``kill -9``), then runs it again normally and checks the world.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.watch.conftest import Setup
from tests.watch.world import git, kev_entry, load_advisory, now_iso

from mamori.watch import Watcher, load_fleet
from mamori.watch._crash import POINTS
from mamori.watch.service import state_path
from mamori.watch.state import WatchState

REPO = Path(__file__).resolve().parents[2]


def _run(fleet: Path, crash_at: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("MAMORI_WATCH_CRASH_AT", None)
    if crash_at:
        env["MAMORI_WATCH_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "mamori", "watch", "run", "--once", "--config", str(fleet)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _baseline(setup: Setup) -> None:
    watcher = Watcher(load_fleet(setup.fleet))
    try:
        watcher.cycle()
    finally:
        watcher.close()


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_kill_at_every_step_then_restart(setup: Setup, point: str) -> None:
    world = setup.world
    _baseline(setup)
    stamp = now_iso()
    world.publish("PyPI", {**load_advisory("PYSEC-2021-142"), "published": stamp, "modified": stamp})
    if point == "kev-imported":
        world.kev.append(kev_entry("CVE-2020-14343"))

    killed = _run(setup.fleet, point)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    again = _run(setup.fleet)
    assert again.returncode == 0, again.stderr[-2000:]

    pulls = world.pulls.get("acme/app", [])
    assert len(pulls) == 1, (point, pulls, again.stderr[-2000:])
    branches = [b for b in git("branch", "--list", "mamori/*", cwd=setup.bare).split() if b != "*"]
    assert branches == [pulls[0]["head"]["ref"]]
    proposed = [h for h in world.hooks if h["body"]["event"] == "proposed"]
    # at least once, and a repeat (only possible for a kill right after the POST) carries the same delivery id
    assert proposed and len({h["delivery"] for h in proposed}) == 1
    if point != "notified":
        assert len(proposed) == 1
    state = WatchState(state_path())
    try:
        counts = state.job_counts()
        assert set(counts) == {"done"}, counts
        rows = state.proposals()
        assert len(rows) == 1 and rows[0]["state"] == "proposed" and rows[0]["url"] == pulls[0]["html_url"]
    finally:
        state.close()
    # a third run finds nothing new and proposes nothing
    third = _run(setup.fleet)
    assert third.returncode == 0 and len(world.pulls["acme/app"]) == 1
