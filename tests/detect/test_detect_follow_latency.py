"""``detect --follow`` timestamps each live alert (line written, alert raised), records it, and the
latency reaches ``/metrics`` and the Speed page per sector.

Through the command users type: a project with ``[asset] sector = "railways"`` is scanned, a
follower tied to it (``--project``) reads an access log; the attack already in the file alerts
without a latency (it was not written while following: no latency is claimed for it), the attack
appended while following carries ``latency`` in its JSON line, and the stored alert gives the
railways figure that the exposition shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mamori.results import ResultsStore
from mamori.watch.metrics import metrics_text

SRC = Path(__file__).resolve().parents[2] / "src"
ATTACK = '203.0.113.7 - - [04/Dec/2026:10:00:{s:02d} +0900] "GET /item?id=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1" 200 5 "-" "curl/8"\n'


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mamori", *args], env=env, capture_output=True, text=True, check=False
    )


def test_a_live_alert_carries_its_latency_to_the_results_and_the_metrics(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "MAMORI_HOME": str(home), "PYTHONPATH": str(SRC), "MAMORI_OFFLINE": "1"}
    project = tmp_path / "kotsu"
    project.mkdir()
    (project / "mamori.toml").write_text('[asset]\nname = "kotsu"\nsector = "railways"\n')
    (project / "app.py").write_text("print('hello')\n")
    scan = _run("scan", str(project), "--offline", "--no-deps", env=env)
    assert scan.returncode in (0, 1), scan.stderr
    log = tmp_path / "access.log"
    log.write_text(ATTACK.format(s=1))
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mamori",
            "detect",
            "--follow",
            "--project",
            str(project),
            "--format",
            "jsonl",
            "-o",
            str(out),
            str(log),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def lines() -> list[dict]:  # type: ignore[type-arg]
            text = out.read_text() if out.exists() else ""
            return [json.loads(x) for x in text.splitlines() if x.strip()]

        deadline = time.monotonic() + 60  # interpreter start-up, not a goal
        while time.monotonic() < deadline and not lines():
            time.sleep(0.1)
        time.sleep(1.0)  # past the first polling round: what follows is live
        with log.open("a") as fh:
            fh.write(ATTACK.format(s=2))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(lines()) < 2:
            time.sleep(0.05)
        got = lines()
    finally:
        proc.send_signal(signal.SIGINT)  # the follower records what it holds, then stops
        proc.wait(30)
    assert [a["source"]["record"] for a in got] == [1, 2]
    assert "latency" not in got[0]  # in the file before the follower started: no latency claimed
    latency = got[1]["latency"]
    assert 0 <= latency["seconds"] < 30 and latency["written"] <= latency["raised"]
    results = home / "results.sqlite"
    stored = ResultsStore(results).detection_latencies()
    assert [s for s, _ in stored] == ["railways"]
    assert abs(stored[0][1] - latency["seconds"]) < 0.01
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics_text(tmp_path / "no-watch.sqlite", results).decode())
        for s in f.samples
    }
    assert samples[("mamori_detect_written_to_alert_seconds_count", (("sector", "railways"),))] == 1
