"""``--follow`` loses nothing around log rotation, streams what a file holds, and flushes ``-o``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mamori.detect import Alert, Detector, load_rules
from mamori.detect._follow import follow
from mamori.detect._rules import bundled_rules_path

ATTACK = '1.2.3.4 - - [10/Feb/2025:10:00:{s:02d} +0000] "GET /?q=1%27%20UNION%20SELECT%20pw%20FROM%20users-- HTTP/1.1" 200 5\n'
BENIGN = '1.2.3.4 - - [10/Feb/2025:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 5\n'


@contextmanager
def _following(path: Path) -> Iterator[tuple[list[Alert], Callable[..., bool]]]:
    detector = Detector(load_rules([bundled_rules_path()]), peer_indicators=False)
    got: list[Alert] = []
    lock = threading.Condition()

    def on_alert(a: Alert) -> None:
        with lock:
            got.append(a)
            lock.notify_all()

    def wait_for(n: int, timeout: float = 5) -> bool:  # up to the 5 s the issue allows
        with lock:
            return lock.wait_for(lambda: len(got) >= n, timeout=timeout)

    stop = threading.Event()
    worker = threading.Thread(
        target=follow, args=([str(path)], detector, on_alert), kwargs={"stop": stop, "interval": 0.05}
    )
    worker.start()
    try:
        yield got, wait_for
    finally:
        stop.set()
        worker.join(10)


def _seconds(alerts: list[Alert]) -> list[str]:
    return sorted({a.timestamp[17:19] for a in alerts})


def test_lines_just_before_and_after_a_rename_alert(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(BENIGN, encoding="utf-8")
    with _following(log) as (got, wait_for):
        time.sleep(0.3)
        with log.open("a", encoding="utf-8") as fh:  # written, then renamed before the next poll
            fh.write(ATTACK.format(s=1))
        os.rename(log, tmp_path / "access.log.1")
        log.write_text(ATTACK.format(s=2), encoding="utf-8")
        assert wait_for(2), _seconds(got)
    assert _seconds(got) == ["01", "02"]


def test_lines_just_before_and_after_a_copytruncate_alert(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(BENIGN * 3, encoding="utf-8")
    with _following(log) as (got, wait_for):
        time.sleep(0.3)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(ATTACK.format(s=1))
        (tmp_path / "access.log.1").write_bytes(log.read_bytes())  # logrotate's copytruncate
        with log.open("r+") as fh:
            fh.truncate(0)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(ATTACK.format(s=2))
        assert wait_for(2), _seconds(got)
    assert _seconds(got) == ["01", "02"]


def test_follow_streams_a_big_existing_file_then_follows(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with log.open("w", encoding="utf-8") as fh:
        fh.write(ATTACK.format(s=1))
        fh.write(BENIGN * 25_000)  # two chunks of 1 MiB
        fh.write(ATTACK.format(s=3))
    with _following(log) as (got, wait_for):
        assert wait_for(2, timeout=120)  # matching 25,000 lines first: not a timing goal
        with log.open("a", encoding="utf-8") as fh:
            fh.write(ATTACK.format(s=5))
        assert wait_for(3)
    assert _seconds(got) == ["01", "03", "05"]


def test_follow_appends_each_alert_to_the_output_as_raised(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(ATTACK.format(s=1), encoding="utf-8")
    out = tmp_path / "alerts.jsonl"
    out.write_text('{"earlier": true}\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mamori",
            "detect",
            "--follow",
            "--format",
            "jsonl",
            "--no-record",
            "-o",
            str(out),
            str(log),
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60  # start-up of a fresh interpreter, not a goal
        while time.monotonic() < deadline and len(out.read_text(encoding="utf-8").splitlines()) < 2:
            time.sleep(0.1)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[0]) == {"earlier": True}  # appended, not truncated
        assert json.loads(lines[1])["source"]["record"] == 1  # flushed while the run goes on
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_followed_iis_log_keeps_the_columns_it_announced(tmp_path: Path) -> None:
    """IIS writes ``#Fields:`` at the top of a log and again after a restart: the follower keeps
    each file's columns, so a line appended after new columns is read by them."""
    log = tmp_path / "u_ex190903.log"
    log.write_text(
        "#Software: Microsoft Internet Information Services 10.0\r\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip sc-status\r\n"
        "2019-09-03 10:00:00 10.0.2.15 GET /index.htm - 80 10.0.2.17 200\r\n",
        encoding="utf-8",
        newline="",
    )
    with _following(log) as (got, wait_for):
        time.sleep(0.3)
        with log.open("a", encoding="utf-8", newline="") as fh:
            fh.write("2019-09-03 10:00:01 10.0.2.15 GET /view file=..%2f..%2fwin.ini 80 10.0.2.17 200\r\n")
            fh.write("#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status\r\n")
            fh.write("2019-09-03 10:00:02 10.0.2.18 GET /s q=1'+UNION+SELECT+pw+FROM+users-- 200\r\n")
        assert wait_for(2), [a.title for a in got]
    by_ip = {str(a.event["c-ip"]): a for a in got}
    assert set(by_ip) == {"10.0.2.17", "10.0.2.18"}
    assert by_ip["10.0.2.17"].event["cs-uri-query"] == "file=../../win.ini"
    assert "UNION SELECT" in str(by_ip["10.0.2.18"].event["cs-uri-query"])
    assert by_ip["10.0.2.18"].timestamp.startswith("2019-09-03T10:00:02")
