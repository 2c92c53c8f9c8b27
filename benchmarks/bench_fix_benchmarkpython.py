"""Benchmark: rule-based rewrites on OWASP BenchmarkPython's true positives that mamori flags.

Usage: python benchmarks/bench_fix_benchmarkpython.py BENCHMARK_DIR [--python PYTHON3.12] [--limit N]

The import check needs a Python 3.12 with the benchmark's imports (``pip install flask lxml
elementpath pyyaml defusedxml ldap3`` into a venv outside this repository); pass it with
``--python`` or ``MAMORI_BENCH_PYTHON312``, otherwise one with flask is preferred when found.

BENCHMARK_DIR is a checkout of OWASP-Benchmark/BenchmarkPython (GPL-3.0: it is copied to a
temporary folder, never into this repository). Ground truth: ``../shared/data/benchmark-python/
expectedresults-0.1.csv``. For every true positive that ``mamori.analysis.scan_code`` flags with
the expected CWE, the rewrite is applied to the copy; a case counts as fixed when the file still
compiles under Python 3.12, its module still imports (best effort: skipped when flask is not
installed for that interpreter, and said so), and a re-scan no longer flags it with that CWE.
"""

from __future__ import annotations

import argparse
import csv
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from mamori.analysis import scan_code
from mamori.fix.fixers import CodeTarget, rewrite_code

REPO = Path(__file__).resolve().parents[1]
TRUTH = REPO / ".." / "shared" / "data" / "benchmark-python" / "expectedresults-0.1.csv"


def _python312(given: str | None) -> str | None:
    if given:
        return given
    found: list[str] = []
    for cand in [
        os.environ.get("MAMORI_BENCH_PYTHON312"),
        shutil.which("python3.12"),
        *glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")),
    ]:
        if cand and subprocess.run([cand, "-V"], capture_output=True, check=False).returncode == 0:
            # prefer an interpreter that can import the application (flask installed)
            if subprocess.run([cand, "-c", "import flask"], capture_output=True, check=False).returncode == 0:
                return cand
            found.append(cand)
    return found[0] if found else None


def _flagged(root: Path) -> dict[str, set[str]]:
    result = scan_code(root)
    out: dict[str, set[str]] = defaultdict(set)
    for f in result.findings:
        name = Path(f.location.path).stem
        for cwe in f.cwe:
            out[name].add(cwe.upper())
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("benchmark", type=Path)
    parser.add_argument("--python", default=None)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    truth = {}
    with TRUTH.open() as fh:
        for row in csv.reader(fh):
            if row and not row[0].startswith("#"):
                truth[row[0]] = (row[1], row[2] == "true", f"CWE-{row[3]}")
    py312 = _python312(args.python)
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        work = Path(tmp) / "bench"
        shutil.copytree(args.benchmark, work, ignore=shutil.ignore_patterns(".git", "results", "*.xml"))
        t0 = time.perf_counter()
        scan = scan_code(work)
        scan_s = time.perf_counter() - t0
        by_file: dict[str, list] = defaultdict(list)
        for f in scan.findings:
            by_file[Path(f.location.path).stem].append(f)
        cases = [
            name
            for name, (_cat, real, cwe) in sorted(truth.items())
            if real and any(cwe in [c.upper() for c in f.cwe] for f in by_file.get(name, []))
        ]
        if args.limit:
            cases = cases[: args.limit]
        rewritten: dict[str, Path] = {}
        no_rewrite: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        t1 = time.perf_counter()
        for name in cases:
            cat, _real, cwe = truth[name]
            findings = [f for f in by_file[name] if cwe in [c.upper() for c in f.cwe]]
            path = work / findings[0].location.path
            text = path.read_text(encoding="utf-8")
            targets = [
                CodeTarget(
                    f.id,
                    (cwe,),
                    f.location.line,
                    tuple(s.line for s in reversed(f.trace) if s.path == f.location.path),
                )
                for f in findings
            ]
            new, outcomes = rewrite_code(text, targets)
            if new == text or not all(o.fixed for o in outcomes.values()):
                no_rewrite[cat] += 1
                reasons[
                    next(o.summary for o in outcomes.values() if not o.fixed)
                    if not all(o.fixed for o in outcomes.values())
                    else "unchanged"
                ] += 1
                if new == text:
                    continue
            path.write_text(new, encoding="utf-8")
            rewritten[name] = path
        rewrite_s = time.perf_counter() - t1
        compiled: set[str] = set(rewritten)
        imported: set[str] = set(rewritten)
        import_note = "no python3.12 found: compile/import checks skipped"
        if py312 and rewritten:
            check = (
                "import sys, py_compile, importlib\n"
                "sys.path.insert(0, sys.argv[1])\n"
                "bad_c, bad_i = [], []\n"
                "try:\n    import flask\n    have = True\nexcept ImportError:\n    have = False\n"
                "for name in sys.argv[2:]:\n"
                "    try:\n        py_compile.compile(f'{sys.argv[1]}/testcode/{name}.py', doraise=True)\n"
                "    except py_compile.PyCompileError:\n        bad_c.append(name); continue\n"
                "    if have:\n"
                "        try:\n            importlib.import_module('testcode.' + name)\n"
                "        except Exception:\n            bad_i.append(name)\n"
                "print('C', *bad_c); print('I', *bad_i); print('F', have)\n"
            )
            proc = subprocess.run(
                [py312, "-c", check, str(work), *rewritten], capture_output=True, text=True, check=False
            )
            lines = {ln.split(" ", 1)[0]: ln.split()[1:] for ln in proc.stdout.splitlines() if ln}
            compiled -= set(lines.get("C", []))
            imported = compiled - set(lines.get("I", []))
            import_note = (
                "modules imported under python3.12"
                if lines.get("F") == ["True"]
                else "flask is not installed for python3.12: import check skipped (compile only)"
            )
        t2 = time.perf_counter()
        after = _flagged(work)
        rescan_s = time.perf_counter() - t2
        fixed = [n for n in imported if truth[n][2] not in after.get(n, set())]
        per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for n in cases:
            per_cat[truth[n][0]][1] += 1
        for n in fixed:
            per_cat[truth[n][0]][0] += 1
    total = len(cases)
    print("OWASP BenchmarkPython v0.1 (GPL-3.0, OWASP-Benchmark/BenchmarkPython) — mamori fix rewrites")
    print(f"true positives flagged by mamori scan: {total}")
    print(
        f"rewritten: {len(rewritten)}; compile under python3.12: {len(compiled)}; {import_note}: {len(imported)}"
    )
    print(f"no longer flagged after the rewrite: {len(fixed)}")
    print(
        f"fixed (compiles, imports, re-scan clean): {len(fixed)}/{total} = {100 * len(fixed) / max(total, 1):.1f}%"
    )
    print(f"timing: scan {scan_s:.1f}s, rewrite {rewrite_s:.1f}s, re-scan {rescan_s:.1f}s")
    print("per category (fixed/flagged):")
    for cat, (ok, n) in sorted(per_cat.items()):
        print(f"  {cat:16} {ok:4}/{n:<4} {100 * ok / n:5.1f}%")
    if reasons:
        print("no rewrite, by reason:")
        for why, n in reasons.most_common(10):
            print(f"  {n:4}  {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
