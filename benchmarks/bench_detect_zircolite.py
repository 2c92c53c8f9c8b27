"""Benchmark: mamori's Sigma engine beside Zircolite on the same EVTX events and the same rules.

Corpus: the SigmaHQ regression samples (``../shared/data/sigma/regression_data``, 202 real EVTX
files) replayed ``--copies`` times. Rules: the 2,407 rules under ``rules/windows`` of the SigmaHQ
set. Zircolite (wagga40/Zircolite, a Python Sigma engine on SQLite) runs from its own checkout
and virtualenv, with its rules converted once beforehand (conversion is not timed) and all
events in one database (``--unified-db``). Both sides are timed in CPU seconds (user + system):
mamori in-process, Zircolite as a child process (including its start-up).

Prints events per CPU second for both, their ratio, and how many (rule, event) hits each found
with the overlap. Rule loading is measured in fresh interpreters, cold (empty compiled-rule
cache) and warm (the cache the cold run wrote); the detection runs load from the warm cache.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_detect_zircolite.py [--copies 100] [--repeat 3]
        [--zircolite ../ext/wagga40+Zircolite] [--zpython ../ext/zvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "sigma"
sys.path.insert(0, str(ROOT / "src"))

from mamori.detect._cache import RuleCache  # noqa: E402
from mamori.detect._engine import Engine  # noqa: E402
from mamori.detect._readers import read_events  # noqa: E402
from mamori.detect._rules import load_rules  # noqa: E402
from mamori.model import ScanError  # noqa: E402


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def build_corpus(dest: Path, copies: int) -> list[Path]:
    """Copy every regression EVTX sample ``copies`` times into ``dest``."""
    samples = sorted((DATA / "regression_data").rglob("*.evtx"))
    files: list[Path] = []
    for c in range(copies):
        for s in samples:
            target = dest / f"c{c:04d}_{s.name}"
            shutil.copyfile(s, target)
            files.append(target)
    return files


_LOAD_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mamori.detect._cache import RuleCache
from mamori.detect._rules import load_rules
cache = RuleCache(Path(sys.argv[3]))
t0 = time.process_time()
rs = load_rules([Path(sys.argv[2])], cache=cache)
print(time.process_time() - t0, len(rs.rules), cache.stats.hits, cache.stats.writes)
"""


def load_in_child(rules_dir: Path, cache_dir: Path) -> tuple[float, int, int, int]:
    """Rule-loading CPU s in a fresh interpreter (nothing warm but the cache folder).

    Returns (CPU s, rules, cache hits, cache writes).
    """
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_CHILD, str(ROOT / "src"), str(rules_dir), str(cache_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), int(out[3])


def run_mamori(
    files: list[Path], rules_dir: Path, cache_dir: Path | None = None
) -> tuple[float, float, int, set[tuple[str, str, str]]]:
    """(rule load CPU s, detection CPU s, events, hits as (file, EventRecordID, rule id))."""
    t0 = time.process_time()
    ruleset = load_rules([rules_dir], cache=RuleCache(cache_dir) if cache_dir is not None else None)
    load = time.process_time() - t0
    engine = Engine(ruleset.rules)
    hits: set[tuple[str, str, str]] = set()
    errors: list[ScanError] = []
    n = 0
    t0 = time.process_time()
    for f in files:
        for ev in read_events(str(f), errors):
            n += 1
            for rule in engine.match(ev):
                hits.add((f.name, str(ev.fields.get("EventRecordID")), rule.id))
    return load, time.process_time() - t0, n, hits


def convert_for_zircolite(zdir: Path, zpy: Path, rules_dir: Path, sample: Path, work: Path) -> Path:
    """Let Zircolite convert the rules once (``-sr``); returns the saved JSON ruleset."""
    before = set(zdir.glob("ruleset-*.json"))
    subprocess.run(
        [
            str(zpy),
            "zircolite.py",
            "-e",
            str(sample),
            "-r",
            str(rules_dir),
            "-p",
            "sysmon",
            "windows-logsources",
            "-sr",
            "-q",
            "-o",
            str(work / "convert_out.json"),
        ],
        cwd=zdir,
        check=True,
        capture_output=True,
    )
    made = sorted(set(zdir.glob("ruleset-*.json")) - before)
    log = zdir / "zircolite.log"
    if log.exists():
        log.unlink()
    if not made:
        raise SystemExit("Zircolite did not save its converted ruleset")
    target = work / "zircolite_ruleset.json"
    shutil.move(str(made[-1]), target)
    return target


def run_zircolite(
    zdir: Path, zpy: Path, ruleset: Path, corpus: Path, out: Path
) -> tuple[float, set[tuple[str, str, str]]]:
    before = _children_cpu()
    subprocess.run(
        [
            str(zpy),
            "zircolite.py",
            "-e",
            str(corpus),
            "-r",
            str(ruleset),
            "--unified-db",
            "-q",
            "-o",
            str(out),
            "--no-event-filter",
        ],
        cwd=zdir,
        check=True,
        capture_output=True,
    )
    cpu = _children_cpu() - before
    log = zdir / "zircolite.log"
    if log.exists():
        log.unlink()
    hits: set[tuple[str, str, str]] = set()
    for det in json.loads(out.read_text(encoding="utf-8")):
        for m in det.get("matches", []):
            hits.add((str(m.get("OriginalLogfile")), str(m.get("EventRecordID")), str(det.get("id"))))
    return cpu, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--zircolite", type=Path, default=ROOT / ".." / "ext" / "wagga40+Zircolite")
    ap.add_argument("--zpython", type=Path, default=ROOT / ".." / "ext" / "zvenv" / "bin" / "python")
    ap.add_argument("--skip-zircolite", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of each engine; the median counts, the spread (min-max) is printed too "
        "(shared machines are noisy)",
    )
    args = ap.parse_args()
    rules_dir = (DATA / "rules" / "windows").resolve()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        corpus.mkdir()
        files = build_corpus(corpus, args.copies)
        print(f"corpus: {len(files)} EVTX files ({args.copies} replays of the regression samples)")
        cache_dir = work / "rule-cache"
        cold = load_in_child(rules_dir, cache_dir)
        warm = load_in_child(rules_dir, cache_dir)
        print(
            f"mamori:    rule loading in a fresh process: cold {cold[0]:.2f} CPU s "
            f"({cold[1]} rules, {cold[3]} files compiled and cached), warm {warm[0]:.2f} CPU s "
            f"({warm[2]} files from the cache): {cold[0] / max(warm[0], 1e-9):.1f}x faster warm"
        )
        runs = [run_mamori(files, rules_dir, cache_dir) for _ in range(max(1, args.repeat))]
        cpus = sorted(r[1] for r in runs)
        cpu = statistics.median(cpus)
        load = statistics.median(r[0] for r in runs)
        _, _, n, ours = runs[0]
        print(
            "mamori:    detection CPU s per run: "
            + ", ".join(f"{r[1]:.2f}" for r in runs)
            + f" (median {cpu:.2f}, spread {cpus[0]:.2f}-{cpus[-1]:.2f})"
        )
        print(
            f"mamori:    rules loaded (warm cache) in {load:.2f} CPU s; {n} events in {cpu:.2f} CPU s "
            f"= {n / cpu:,.0f} events/CPU s (with warm rule loading: {n / (cpu + load):,.0f}; "
            f"with cold rule loading: {n / (cpu + cold[0]):,.0f})"
        )
        print(f"mamori:    {len(ours)} (rule, event) hits")
        if args.skip_zircolite:
            return
        zdir = args.zircolite.resolve()
        zpy = args.zpython.absolute()  # not resolve(): that would leave the virtualenv
        if not (zdir / "zircolite.py").exists() or not zpy.exists():
            print(f"Zircolite not found at {zdir} (python {zpy}); install it to compare", file=sys.stderr)
            return
        sample = work / "sample"
        sample.mkdir()
        shutil.copyfile(files[0], sample / files[0].name)
        ruleset = convert_for_zircolite(zdir, zpy, rules_dir, sample, work)
        zruns = [
            run_zircolite(zdir, zpy, ruleset, corpus, work / "zircolite_out.json")
            for _ in range(max(1, args.repeat))
        ]
        zcpus = sorted(r[0] for r in zruns)
        zcpu = statistics.median(zcpus)
        theirs = zruns[0][1]
        print(
            "zircolite: CPU s per run: "
            + ", ".join(f"{r[0]:.2f}" for r in zruns)
            + f" (median {zcpu:.2f}, spread {zcpus[0]:.2f}-{zcpus[-1]:.2f})"
        )
        print(f"zircolite: {n} events in {zcpu:.2f} CPU s = {n / zcpu:,.0f} events/CPU s")
        print(f"zircolite: {len(theirs)} (rule, event) hits")
        print(
            f"speed ratio mamori/zircolite (medians): {zcpu / cpu:.1f}x; spread over the runs "
            f"{zcpus[0] / cpus[-1]:.1f}x-{zcpus[-1] / cpus[0]:.1f}x "
            f"(with mamori's rule loading: warm cache {zcpu / (cpu + load):.1f}x, "
            f"cold {zcpu / (cpu + cold[0]):.1f}x)"
        )
        both = ours & theirs
        print(
            f"hits ratio mamori/zircolite: {len(ours) / max(1, len(theirs)):.3f}; "
            f"common {len(both)}, only mamori {len(ours - theirs)}, only zircolite {len(theirs - ours)}"
        )
        only_z = sorted({h[2] for h in theirs - ours})
        only_m = sorted({h[2] for h in ours - theirs})
        if only_z:
            print("rules only zircolite fired:", ", ".join(only_z[:20]))
        if only_m:
            print("rules only mamori fired:", ", ".join(only_m[:20]))


if __name__ == "__main__":
    main()
