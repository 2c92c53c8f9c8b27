"""Benchmark: the ``mamori detect`` command as users run it, cold and warm, beside Zircolite.

Corpus: EVTX-ATTACK-SAMPLES (sbousseaden/EVTX-ATTACK-SAMPLES, fetched outside the repository)
copied ``--copies`` times (5 by default: 1,385 files, about 41k events, so fixed costs do not
dominate). Rules: the 2,407 SigmaHQ Windows rules (``../shared/data/sigma/rules/windows``).

Every figure is of a whole child process, measured with ``os.wait4``: CPU seconds (user + system),
wall seconds and peak RSS.

- mamori *cold*: ``mamori detect --rules RULES CORPUS`` with a fresh, empty MAMORI_HOME (no
  compiled-rule cache; nothing precomputed for these rules ships in the package).
- mamori *warm*: the same command again on that MAMORI_HOME (its rule cache filled).
- Zircolite *from Sigma*: ``zircolite.py -r RULES`` converting the same Sigma rules itself (what
  its user runs on a rule folder), and Zircolite *converted*: given the JSON ruleset it saved on
  an earlier run (``-sr``; its fastest mode, conversion not timed).
- The floor: a child process that only parses every file with the ``evtx`` library (the same
  Rust parser both engines use) and decodes each record's JSON with orjson: what any engine on
  that parser pays.

Each is run ``--repeat`` times (3 by default); the median and the spread (min-max) are printed,
with the machine's load average (the machine may be shared: figures are noisy). Alerts: the set
of rules each engine fired, and how many of Zircolite's rules mamori fired too.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_detect_cli.py --samples ../ext/evtx-attack
        [--copies 5] [--repeat 3] [--zircolite ../ext/zircolite] [--zpython ../ext/zvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _gen import Run, run, summary

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / ".." / "shared" / "data" / "sigma" / "rules" / "windows"

_FLOOR = """
import sys, pathlib, evtx
try:
    from orjson import loads
except ImportError:
    from json import loads
n = 0
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.evtx")):
    try:
        for r in evtx.PyEvtxParser(str(f), number_of_threads=1).records_json():
            loads(r["data"])
            n += 1
    except (OSError, RuntimeError, ValueError):
        pass
print(n)
"""


def build_corpus(samples: Path, dest: Path, copies: int) -> int:
    files = sorted(samples.rglob("*.evtx"))
    for c in range(copies):
        for f in files:
            target = dest / f"c{c}" / f.relative_to(samples)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
    return len(files) * copies


def mamori_cmd(corpus: Path, rules: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mamori",
        "detect",
        "--rules",
        str(rules),
        "--format",
        "jsonl",
        "--no-record",
        "-o",
        str(out),
        str(corpus),
    ]


def mamori_rules(out: Path) -> set[str]:
    fired: set[str] = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        if line.strip():
            fired.add(str(json.loads(line)["rule_id"]))
    return fired


def zircolite_rules(out: Path) -> set[str]:
    fired: set[str] = set()
    for det in json.loads(out.read_text(encoding="utf-8") or "[]"):
        if det.get("matches") or det.get("count"):
            fired.add(str(det.get("id")))
    return fired


def zircolite_cmd(zpy: Path, corpus: Path, rules: Path, out: Path, *, from_sigma: bool) -> list[str]:
    cmd = [str(zpy), "zircolite.py", "-e", str(corpus), "-r", str(rules)]
    if from_sigma:
        cmd += ["-p", "sysmon", "windows-logsources"]
    return [*cmd, "--unified-db", "-q", "-o", str(out), "--no-event-filter"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=ROOT / ".." / "ext" / "evtx-attack")
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rules", type=Path, default=RULES)
    ap.add_argument("--zircolite", type=Path, default=ROOT / ".." / "ext" / "zircolite")
    ap.add_argument("--zpython", type=Path, default=ROOT / ".." / "ext" / "zvenv" / "bin" / "python")
    ap.add_argument("--skip-zircolite", action="store_true")
    args = ap.parse_args()
    rules = args.rules.resolve()
    if not args.samples.is_dir() or not rules.is_dir():
        raise SystemExit(f"need the samples ({args.samples}) and the SigmaHQ rules ({rules})")
    print("load average before:", " ".join(f"{x:.2f}" for x in os.getloadavg()), f"({os.cpu_count()} CPUs)")
    env_base = dict(os.environ)
    env_base["PYTHONPATH"] = str(ROOT / "src")
    with tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        n_files = build_corpus(args.samples.resolve(), corpus, args.copies)
        floor = [run([sys.executable, "-c", _FLOOR, str(corpus)]) for _ in range(args.repeat)]
        events = int(floor[0].stdout.strip() or 0)
        print(f"corpus: {n_files} EVTX files, {events} events ({args.copies} copies); rules: {rules.name}")
        f_cpu = summary("evtx parsing alone (floor)", floor)
        cold: list[Run] = []
        warm: list[Run] = []
        for i in range(args.repeat):
            home = work / f"home{i}"
            home.mkdir()
            env = dict(env_base, MAMORI_HOME=str(home))
            cold.append(run(mamori_cmd(corpus, rules, work / "m_cold.jsonl"), env=env))
            warm.append(run(mamori_cmd(corpus, rules, work / "m_warm.jsonl"), env=env))
        c_cpu = summary("mamori detect, cold", cold)
        w_cpu = summary("mamori detect, warm", warm)
        ours = mamori_rules(work / "m_warm.jsonl")
        same = mamori_rules(work / "m_cold.jsonl") == ours
        n_alerts = sum(1 for _ in (work / "m_warm.jsonl").open(encoding="utf-8"))
        print(f"mamori: {n_alerts} alerts from {len(ours)} rules (cold and warm alike: {same})")
        print(
            f"mamori over the floor: cold {c_cpu / f_cpu:.1f}x, warm {w_cpu / f_cpu:.1f}x the floor's CPU s"
        )
        if args.skip_zircolite:
            return
        zdir = args.zircolite.resolve()
        zpy = args.zpython.absolute()  # not resolve(): that would leave the virtualenv
        if not (zdir / "zircolite.py").exists() or not zpy.exists():
            print(f"Zircolite not found at {zdir} (python {zpy}); install it to compare", file=sys.stderr)
            return
        zruns = [
            run(zircolite_cmd(zpy, corpus, rules, work / "z_sigma.json", from_sigma=True), cwd=zdir)
            for _ in range(args.repeat)
        ]
        z_cpu = summary("zircolite, from Sigma", zruns)
        # its saved conversion (``-sr``), then runs given that JSON ruleset
        before = set(zdir.glob("ruleset-*.json"))
        sample = work / "sample"
        sample.mkdir()
        first = next(corpus.rglob("*.evtx"))
        shutil.copyfile(first, sample / first.name)
        save = zircolite_cmd(zpy, sample, rules, work / "z_conv.json", from_sigma=True)
        run([*save, "-sr"], cwd=zdir)
        made = sorted(set(zdir.glob("ruleset-*.json")) - before)
        zc_cpu = None
        if made:
            converted = work / "zircolite_ruleset.json"
            shutil.move(str(made[-1]), converted)
            zc = [
                run(zircolite_cmd(zpy, corpus, converted, work / "z_json.json", from_sigma=False), cwd=zdir)
                for _ in range(args.repeat)
            ]
            zc_cpu = summary("zircolite, converted JSON", zc)
        log = zdir / "zircolite.log"
        if log.exists():
            log.unlink()
        theirs = zircolite_rules(work / "z_sigma.json")
        both = ours & theirs
        print(
            f"zircolite: {len(theirs)} rules fired; mamori fired {len(both)} of them "
            f"({100 * len(both) / max(1, len(theirs)):.1f}%); only mamori: {len(ours - theirs)}"
        )
        if theirs - ours:
            print("  rules only zircolite fired:", ", ".join(sorted(theirs - ours)[:30]))
        print(
            f"ratio (Zircolite from Sigma CPU s / mamori CPU s, medians): cold {z_cpu / c_cpu:.2f}x, "
            f"warm {z_cpu / w_cpu:.2f}x"
            + (
                f"; against Zircolite's converted JSON: cold {zc_cpu / c_cpu:.2f}x, warm {zc_cpu / w_cpu:.2f}x"
                if zc_cpu
                else ""
            )
        )
    print("load average after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
