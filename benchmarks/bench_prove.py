"""Proofs of vulnerability on OWASP BenchmarkPython: share of flagged true positives proven.

Runs the ``mamori`` command as a subprocess (``mamori prove TARGET --python PY --format json``),
then scores its proofs against the benchmark's expected results and prints, per category, the
flagged true positives, how many were proven, the flagged false positives proven (must be 0),
the wall time and peak memory (of the mamori process and its children).

    python benchmarks/bench_prove.py BENCHMARK_DIR --python VENV/bin/python [--unsafe-run]

BENCHMARK_DIR is an extracted github:OWASP-Benchmark/BenchmarkPython; its requirements must be
installed for the interpreter given (it needs Python 3.12+).
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATEGORY = {
    "PY-SQLI": "sqli",
    "PY-CMDI": "cmdi",
    "PY-CODEI": "codeinj",
    "PY-PATH": "pathtraver",
    "PY-REDIRECT": "redirect",
    "PY-XSS": "xss",
    "PY-XXE": "xxe",
    "PY-DESER": "deserialization",
    "PY-LDAPI": "ldapi",
    "PY-XPATHI": "xpathi",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmark", type=Path)
    ap.add_argument("--python", type=Path, required=True)
    ap.add_argument("--unsafe-run", action="store_true", help="pass --unsafe-run (no sandbox available)")
    args = ap.parse_args()
    expected = args.benchmark / "expectedresults-0.1.csv"
    truth: dict[str, tuple[str, bool]] = {}
    for line in expected.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, cat, real = line.split(",")[:3]
        truth[name] = (cat, real == "true")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "prove.json"
        argv = [
            "mamori",
            "prove",
            str(args.benchmark),
            "--python",
            str(args.python),
            "--format",
            "json",
            "-o",
            str(out),
        ]
        if args.unsafe_run:
            argv.append("--unsafe-run")
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        data = json.loads(out.read_text())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    table: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    reasons: collections.Counter[str] = collections.Counter()
    attempted = 0
    for f in data["findings"]:
        proof = f.get("proof")
        if proof and proof["status"] != "not_attempted":
            attempted += 1
        if not proof or f["rule_id"] not in CATEGORY:
            continue
        name = Path(f["location"]["path"]).stem
        if name not in truth or truth[name][0] != CATEGORY[f["rule_id"]]:
            continue
        row = table[truth[name][0]]
        if truth[name][1]:
            row[0] += 1
            row[1] += proof["status"] == "proven"
            if proof["status"] != "proven":
                reasons[f"{truth[name][0]}: {proof['reason'][:100]}"] += 1
        else:
            row[2] += 1
            row[3] += proof["status"] == "proven"
    print(
        f"{'category':16} {'TP flagged':>10} {'proven':>7} {'share':>6} {'FP flagged':>10} {'FP proven':>9}"
    )
    for cat, (tp, pr, fp, fpp) in sorted(table.items()):
        print(f"{cat:16} {tp:10} {pr:7} {pr / max(tp, 1):6.0%} {fp:10} {fpp:9}")
    tp = sum(r[0] for r in table.values())
    pr = sum(r[1] for r in table.values())
    print(
        f"{'total':16} {tp:10} {pr:7} {pr / max(tp, 1):6.0%} {sum(r[2] for r in table.values()):10} "
        f"{sum(r[3] for r in table.values()):9}"
    )
    print(
        f"wall {wall:.0f} s (scan and proofs); {attempted} proofs attempted, "
        f"{wall / max(attempted, 1):.2f} s per proof overall; peak RSS {peak:.0f} MiB"
    )
    for reason, n in reasons.most_common(10):
        print(f"  not proven x{n}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
