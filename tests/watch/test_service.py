"""The foreground service: `mamori watch run` picks up an advisory published while it runs,
writes readable progress lines, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.watch.conftest import Setup
from tests.watch.world import load_advisory, now_iso

REPO = Path(__file__).resolve().parents[2]


def test_the_running_service_reacts_and_stops_on_sigterm(setup: Setup) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mamori", "watch", "run", "--interval", "1", "--config", str(setup.fleet)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    first_cycle = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if "cycle:" in line:
                first_cycle.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert first_cycle.wait(120), lines
        stamp = now_iso()
        setup.world.publish(
            "PyPI", {**load_advisory("PYSEC-2021-142"), "published": stamp, "modified": stamp}
        )
        deadline = time.time() + 180
        while time.time() < deadline and not setup.world.pulls.get("acme/app"):
            assert proc.poll() is None, lines
            time.sleep(0.2)
        assert len(setup.world.pulls.get("acme/app", [])) == 1, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        reader.join(10)
    assert code == 0, lines
    assert any("stopping after the current job" in line for line in lines)
    assert all(re.match(r"^\d\d:\d\d:\d\d \S", line) for line in lines), lines  # time-stamped lines
    assert any("opened merge request #1" in line for line in lines)
    assert not any("Traceback" in line for line in lines)
