"""The durable queue: unique keys, short jobs before fixes, jobs of a dead worker taken again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mamori.watch.state import MAX_ATTEMPTS, WatchState


def test_a_key_is_queued_once_even_after_it_is_done(tmp_path: Path) -> None:
    state = WatchState(tmp_path / "w.sqlite")
    assert state.enqueue("advisory:X:1", "advisory", {"id": "X"})
    assert not state.enqueue("advisory:X:1", "advisory", {"id": "X"})
    job = state.claim()
    assert job is not None and job.key == "advisory:X:1"
    state.finish(job)
    assert not state.enqueue("advisory:X:1", "advisory", {"id": "X"})
    assert state.claim() is None


def test_fixes_wait_behind_every_other_kind(tmp_path: Path) -> None:
    state = WatchState(tmp_path / "w.sqlite")
    state.enqueue("fix:a", "fix", {})
    state.enqueue("fix:b", "fix", {})
    state.enqueue("propose:a", "propose", {})
    state.enqueue("kev:CVE-1", "kev", {})
    order = []
    while (job := state.claim()) is not None:
        order.append(job.key)
        state.finish(job)
    assert order == ["propose:a", "kev:CVE-1", "fix:a", "fix:b"]


def test_a_dead_workers_job_is_taken_again_and_a_live_ones_is_not(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    first = WatchState(path)
    first.enqueue("sync:a", "sync", {})
    first.enqueue("sync:b", "sync", {})
    first._conn.execute(
        "UPDATE jobs SET state='running', owner_pid=?, owner_token='x' WHERE key='sync:a'", (dead_pid,)
    )
    other = WatchState(path)
    job = other.claim()
    assert job is not None and job.key == "sync:a" and job.attempts == 1
    # sync:b is now claimed by a live worker (this process, another token): not taken twice
    first.claim()
    third = WatchState(path)
    assert third.claim() is None


def test_failures_back_off_then_give_up(tmp_path: Path) -> None:
    state = WatchState(tmp_path / "w.sqlite")
    state.enqueue("notify:x", "notify", {})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        state._conn.execute("UPDATE jobs SET not_before = 0")
        job = state.claim()
        assert job is not None and job.attempts == attempt
        gave_up = state.fail(job, "webhook down")
        assert gave_up == (attempt == MAX_ATTEMPTS)
    assert state.claim() is None
    assert state.job_counts() == {"failed": 1}
    assert state.failed_jobs()[0]["error"] == "webhook down"


def test_one_job_per_project_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    one, two = WatchState(path), WatchState(path)
    one.enqueue("sync:a:1", "sync", {"project": "a"})
    one.enqueue("evaluate:a:1", "evaluate", {"project": "a"})
    one.enqueue("sync:b:1", "sync", {"project": "b"})
    first = one.claim()
    assert first is not None and first.key == "sync:a:1"
    second = two.claim()
    assert second is not None and second.key == "sync:b:1"  # project a is busy with the other worker
    assert two.claim() is None
    one.finish(first)
    third = two.claim()
    assert third is not None and third.key == "evaluate:a:1"
