"""Benchmark: time from scan start to verified fix on the demo sample project (offline).

Usage: python benchmarks/bench_fix_demo.py [--runs N]

Copies the bundled sample (``mamori.demo.sample_source()``) to a temporary folder N times, runs
``fix_project`` offline against the bundled demo advisories (code fixes proven by the sample's
own tests, dependency upgrades by re-scan and resolution), and prints the median, over every
verified fix of every run, of the seconds from the start of the scan to the verified patch.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from mamori.advisories.store import AdvisoryStore
from mamori.demo import advisories_source, sample_source
from mamori.fix import fix_project


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: list[float] = []
    totals: list[float] = []
    statuses: Counter[tuple[str, str]] = Counter()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-demo-") as tmp:
        db = Path(tmp) / "advisories.sqlite"
        AdvisoryStore(db).import_paths([advisories_source()])
        for i in range(args.runs):
            project = Path(tmp) / f"sample{i}"
            shutil.copytree(sample_source(), project, ignore=shutil.ignore_patterns("__pycache__"))
            t0 = time.perf_counter()
            report = fix_project(project, database=db, offline=True, apply=True, python=sys.executable)
            totals.append(time.perf_counter() - t0)
            times += [r.seconds_to_verified for r in report.results if r.seconds_to_verified is not None]
            if i == 0:
                statuses.update((r.kind, r.status) for r in report.results)
                method = report.verification.method
                tests = report.verification.tests
    print("mamori fix on the demo sample (offline, bundled advisories)")
    print(f"verification: {method} ({tests or 'no tests'})")
    print("results per run: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(statuses.items())))
    if times:
        print(
            f"median time from scan start to verified fix: {statistics.median(times):.2f}s "
            f"(n={len(times)} fixes over {args.runs} runs; whole run median {statistics.median(totals):.2f}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
