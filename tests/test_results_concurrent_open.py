"""Processes opening the results database at once never fail on its schema.

Seen in CI: `detect --follow` recording a batch of alerts while another process read the
database for the first time: both saw a column of a newer version missing, both added it, the
second failed ("duplicate column name: evidence") and the batch of alerts was lost. Real
processes, a real SQLite file, released at the same instant by a barrier, many times.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from pathlib import Path

from mamori.results import ResultsStore


def _open(
    path: str, barrier: multiprocessing.synchronize.Barrier, errors: multiprocessing.Queue[str]
) -> None:
    barrier.wait()
    try:
        ResultsStore(Path(path)).alerts(limit=1)
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {exc}")


def test_first_opens_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(15):
        path = tmp_path / f"results-{round_}.sqlite"
        barrier = ctx.Barrier(4)
        errors: multiprocessing.Queue[str] = ctx.Queue()
        procs = [ctx.Process(target=_open, args=(str(path), barrier, errors)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        while not errors.empty():
            failures.append(errors.get())
    assert failures == []
