"""Score mamori's code analysis (and Bandit, as the anchor) on OWASP BenchmarkPython.

Usage: python benchmarks/bench_code_benchmarkpython.py PATH_TO_BenchmarkPython [--no-bandit]
   (or set BENCHMARKPYTHON_DIR). Get the benchmark (GPL-3.0, keep it outside this repository):
   git clone https://github.com/OWASP-Benchmark/BenchmarkPython && git -C BenchmarkPython checkout 7cf0674b

Scoring (see ../shared/data/README.md): a test case counts as flagged when a finding lies in its
file testcode/BenchmarkTestNNNNN.py and carries the expected CWE. Per category TPR and FPR; the
score is the mean over the 14 categories of Youden's J = TPR - FPR.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / ".." / "shared" / "data" / "benchmark-python" / "expectedresults-0.1.csv"


def load_truth() -> dict[str, tuple[str, bool, str]]:
    out: dict[str, tuple[str, bool, str]] = {}
    with TRUTH.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if not row or row[0].startswith("#"):
                continue
            out[row[0].strip()] = (row[1].strip(), row[2].strip() == "true", "CWE-" + row[3].strip())
    return out


def score(flagged: set[tuple[str, str]], truth: dict[str, tuple[str, bool, str]]) -> tuple[float, dict]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fn fp tn
    for name, (cat, real, cwe) in truth.items():
        hit = (name, cwe) in flagged
        c = per[cat]
        if real:
            c[0 if hit else 1] += 1
        else:
            c[2 if hit else 3] += 1
    table = {}
    for cat, (tp, fn, fp, tn) in sorted(per.items()):
        tpr = tp / (tp + fn) if tp + fn else 0.0
        fpr = fp / (fp + tn) if fp + tn else 0.0
        table[cat] = (tpr, fpr, tpr - fpr)
    return sum(j for _, _, j in table.values()) / len(table), table


def run_mamori(bench: Path) -> tuple[set[tuple[str, str]], float, int, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from mamori.analysis import scan_code

    t0 = time.perf_counter()
    res = scan_code(bench)
    dt = time.perf_counter() - t0
    flagged = set()
    for f in res.findings:
        p = Path(f.location.path)
        if p.parent.name == "testcode" and p.stem.startswith("BenchmarkTest"):
            for c in f.cwe:
                flagged.add((p.stem, c))
    skipped = sum(1 for e in res.errors if e.message.startswith("skipped"))
    return flagged, dt, res.files_scanned, skipped


def run_bandit(bench: Path) -> tuple[set[tuple[str, str]], float, int] | None:
    exe = Path(sys.executable).with_name("bandit")
    if not exe.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bandit.json"
        t0 = time.perf_counter()
        subprocess.run(
            [str(exe), "-r", str(bench / "testcode"), "-f", "json", "-o", str(out), "-q"],
            capture_output=True,
            check=False,
        )
        dt = time.perf_counter() - t0
        data = json.loads(out.read_text())
    flagged = set()
    for r in data.get("results", []):
        p = Path(r["filename"])
        cwe = r.get("issue_cwe", {}).get("id")
        if cwe:
            flagged.add((p.stem, f"CWE-{cwe}"))
    return flagged, dt, len(data.get("errors", []))


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    where = args[0] if args else os.environ.get("BENCHMARKPYTHON_DIR")
    if not where:
        print(__doc__)
        return 2
    bench = Path(where).resolve()
    truth = load_truth()
    flagged, dt, n, skipped = run_mamori(bench)
    mean, table = score(flagged, truth)
    print(f"mamori: {n} files in {dt:.1f} s, {skipped} skipped")
    print(f"{'category':16} {'TPR':>6} {'FPR':>6} {'J':>6}")
    for cat, (tpr, fpr, j) in table.items():
        print(f"{cat:16} {tpr:6.2f} {fpr:6.2f} {j:6.2f}")
    print(f"mamori mean Youden J = {mean:.3f}  (lowest category {min(j for *_, j in table.values()):.2f})")
    if "--no-bandit" not in sys.argv:
        b = run_bandit(bench)
        if b is None:
            print("bandit not installed in this environment; skipped")
        else:
            bflag, bdt, berr = b
            bmean, btable = score(bflag, truth)
            print(f"{'category':16} {'mamori J':>9} {'bandit J':>9}")
            for cat, (*_, j) in table.items():
                print(f"{cat:16} {j:9.2f} {btable.get(cat, (0.0, 0.0, 0.0))[2]:9.2f}")
            print(f"bandit: {bdt:.1f} s, {berr} files it could not parse, mean Youden J = {bmean:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
