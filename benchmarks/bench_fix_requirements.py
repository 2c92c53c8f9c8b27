"""Benchmark: ``mamori fix`` upgrading old pins in a requirements file, against the real PyPA advisories.

Usage: python benchmarks/bench_fix_requirements.py [--packages N] [--runs 3] [--index pypi|URL]

Every step a user runs is a child process measured alone (``os.wait4``: CPU seconds, wall, peak
RSS). Per run (``--runs``, 3 by default), on a fresh MAMORI_HOME:

1. ``mamori db import ../shared/data/pypa-advisory-db/vulns`` (PyPA Advisory Database, CC-BY-4.0);
2. per strategy (``in-place``, ``latest-safe``): *cold*, ``mamori fix COPY --no-code --offline
   --strategy S --format json -o fix.json`` on a fresh copy of a requirements file pinning, for N
   packages, the oldest version an advisory lists as affected (the first fix on that home); then
   *warm*, the same on a second fresh copy, same home;
3. the project has no tests, so the fix calls no upgrade verified and writes none (the statuses
   are printed); the same fixes are applied once more with ``--no-verify`` (as its user would)
   and ``mamori scan COPY --no-code --offline --format json`` on that copy says what is left.

Released versions come from the versions the advisories name, or, with ``--index``, from the
package index (``pypi`` = pypi.org's JSON API, cached under MAMORI_HOME; or the base URL of a
mirror serving the same JSON; the fix then runs without ``--offline``).

Printed per strategy (from the commands' JSON output, first run): how many components that have a
fixed version were moved to a version no known advisory affects; how many the re-scan still
flags, and of those how many still have a known safe version ("fixable left", the goal is 0 for
latest-safe); for in-place, how many are safe only in another major version (with the options
the report gives); the median time from scan start to a verified fix the report gives. Which
packages have a known safe version at all is computed in this process with mamori's own
version chooser (a library call, not timed). No other tool upgrades pins offline against these
advisories, so there is no anchor beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from _gen import Run, mamori_cmd, run, summary

from mamori.advisories.store import AdvisoryStore
from mamori.fix._choose import VersionChooser
from mamori.fix._index import PackageIndex
from mamori.inventory.interface import Component
from mamori.model import Location

REPO = Path(__file__).resolve().parents[1]
DB = REPO / ".." / "shared" / "data" / "pypa-advisory-db" / "vulns"


def _old_pin(folder: Path) -> tuple[str, str] | None:
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        for aff in doc.get("affected", []):
            versions = aff.get("versions") or []
            fixed = [
                e.get("fixed") for r in aff.get("ranges", []) for e in r.get("events", []) if e.get("fixed")
            ]
            if versions and fixed and "/" not in aff["package"]["name"]:
                return aff["package"]["name"], versions[0]
    return None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _scan(project: Path, out: Path, env: dict[str, str]) -> tuple[Run, list[dict[str, Any]]]:
    """``mamori scan PROJECT --no-code --offline --format json``: the run and its findings."""
    cmd = [*mamori_cmd(), "scan", str(project), "--no-code", "--offline", "--format", "json", "-o", str(out)]
    measured = run(cmd, env=env)
    return measured, [f for f in _json(out).get("findings", []) if isinstance(f, dict)]


def _names(findings: list[dict[str, Any]], *, with_fix: bool = False) -> set[str]:
    return {
        str(f["package"]["name"])
        for f in findings
        if f.get("package") and (not with_fix or (f.get("advisory") or {}).get("fixed"))
    }


def _safe_known(
    findings: list[dict[str, Any]], db: Path, use_index: bool, home: Path
) -> tuple[set[str], bool]:
    """Which vulnerable packages have a version no known advisory affects, from the same
    candidate source the fix uses (mamori's version chooser, in this process; not timed)."""
    store = AdvisoryStore(db)
    index = PackageIndex(offline=not use_index, cache_dir=home / "cache" / "index" if use_index else None)
    chooser = VersionChooser(store, index)
    safe: set[str] = set()
    unreachable = False
    for f in findings:
        pkg = f.get("package") or {}
        name = str(pkg.get("name", ""))
        fixed = tuple((f.get("advisory") or {}).get("fixed") or ())
        if not name or not fixed or name in safe:
            continue
        hint = tuple(
            v
            for g in findings
            if (g.get("package") or {}).get("name") == name
            for v in (g.get("advisory") or {}).get("fixed") or ()
        )
        loc = f.get("location") or {}
        component = Component(
            str(pkg.get("ecosystem", "PyPI")),
            name,
            str(pkg.get("version", "")),
            Location(str(loc.get("path", "requirements.txt")), int(loc.get("line", 0) or 0)),
            purl=str(pkg.get("purl", "")),
        )
        choice = chooser.choose(component, hint, "latest-safe")
        unreachable = unreachable or choice.source != "index"
        if choice.version is not None:
            safe.add(name)
    return safe, unreachable


def _outcome(report: dict[str, Any], left: set[str], safe_known: set[str]) -> dict[str, Any]:
    other_major: dict[str, str] = {}
    no_safe: dict[str, str] = {}
    for r in report.get("fixes", []):
        if not isinstance(r, dict) or r.get("status") != "not_possible":
            continue
        name = str(r.get("summary", "")).split(" ")[0]
        options = [str(o) for o in r.get("options") or ()]
        if any("new major version" in o for o in options):
            other_major[name] = f"{r.get('reason')}; options: " + " | ".join(options)
        else:
            no_safe[name] = str(r.get("reason"))
    return {
        "left": left,
        "fixable_left": left & safe_known,
        "other_major": other_major,
        "no_safe": no_safe,
        "times": [
            float(r["seconds_to_verified"])
            for r in report.get("fixes", [])
            if isinstance(r, dict) and r.get("seconds_to_verified") is not None
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packages", type=int, default=60, help="pinned packages (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh MAMORI_HOME (default 3)")
    parser.add_argument(
        "--index",
        default="",
        help="ask a package index for released versions: 'pypi' (pypi.org) or a base URL",
    )
    args = parser.parse_args()
    env0 = {k: v for k, v in os.environ.items() if k != "MAMORI_HOME"}
    if args.index and args.index != "pypi":
        env0["MAMORI_PYPI_URL"] = args.index
    use_index = bool(args.index)
    strategies = ("in-place", "latest-safe")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    imports: list[Run] = []
    scans: list[Run] = []
    fixes: dict[tuple[str, str], list[Run]] = {(s, t): [] for s in strategies for t in ("cold", "warm")}
    outcomes: dict[str, dict[str, Any]] = {}
    statuses: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory(prefix="mamori-bench-req-") as tmp:
        root = Path(tmp)
        pins = [p for p in (_old_pin(d) for d in sorted(DB.iterdir()) if d.is_dir()) if p][: args.packages]
        template = root / "template"
        template.mkdir()
        (template / "requirements.txt").write_text(
            "# old pins\n" + "".join(f"{name}=={version}\n" for name, version in pins), encoding="utf-8"
        )
        vulnerable: set[str] = set()
        with_fix: set[str] = set()
        safe_known: set[str] = set()
        unreachable = False
        for i in range(args.runs):
            home = root / f"home{i}"
            env = {**env0, "MAMORI_HOME": str(home)}
            imports.append(run([*mamori_cmd(), "db", "import", str(DB.resolve())], env=env))
            if imports[-1].code != 0:
                print(f"mamori db import failed (exit {imports[-1].code})")
                return 2
            if i == 0:
                measured, before = _scan(template, root / "before.json", env)
                scans.append(measured)
                vulnerable, with_fix = _names(before), _names(before, with_fix=True)
                safe_known, unreachable = _safe_known(before, home / "advisories.sqlite", use_index, home)
            for strategy in strategies:
                for temp in ("cold", "warm"):
                    project = root / f"{strategy}-{i}-{temp}"
                    shutil.copytree(template, project)
                    out = root / f"fix-{strategy}-{i}-{temp}.json"
                    cmd = [*mamori_cmd(), "fix", str(project), "--no-code", "--strategy", strategy]
                    cmd += ["--format", "json", "-o", str(out)] + ([] if use_index else ["--offline"])
                    fixes[(strategy, temp)].append(run(cmd, env=env))
                    r = fixes[(strategy, temp)][-1]
                    print(
                        f"  run {i + 1} {strategy} {temp}: exit {r.code}, {r.cpu:.2f} CPU s, {r.wall:.2f} wall s",
                        flush=True,
                    )
                    if i == 0 and temp == "cold":
                        statuses[strategy] = Counter(
                            str(f.get("status")) for f in _json(out).get("fixes", []) if isinstance(f, dict)
                        )
                        # A project without tests: the fixes are checked by re-scan only and so
                        # not written; apply them as its user would (--no-verify) and re-scan.
                        applied = root / f"{strategy}-applied"
                        shutil.copytree(template, applied)
                        out2 = root / f"fix-{strategy}-applied.json"
                        cmd2 = [*mamori_cmd(), "fix", str(applied), "--no-code", "--strategy", strategy]
                        cmd2 += ["--no-verify", "--format", "json", "-o", str(out2)]
                        run(cmd2 + ([] if use_index else ["--offline"]), env=env)
                        measured, after = _scan(applied, root / f"after-{strategy}.json", env)
                        scans.append(measured)
                        outcomes[strategy] = _outcome(_json(out), _names(after), safe_known)
    source = (
        ("the package index" + (" (some answers missing: advisories used for those)" if unreachable else ""))
        if use_index
        else "the versions the advisories name (offline)"
    )
    print("\nPyPA Advisory Database snapshot 2024-10-10 (CC-BY-4.0): mamori fix on old requirement pins")
    print(f"released versions from {source}; whole commands, {args.runs} runs:")
    summary("mamori db import", imports)
    summary("mamori scan --no-code", scans)
    for (strategy, temp), runs in fixes.items():
        summary(f"fix {strategy}, {temp}", runs)
    print(
        f"\n{len(pins)} pinned packages, {len(vulnerable)} vulnerable, {len(with_fix)} with a fixed version named, "
        f"{len(safe_known)} with a known version no advisory affects (library: the version chooser)"
    )
    for strategy, outcome in outcomes.items():
        moved = with_fix - outcome["left"]
        print(f"\n--strategy {strategy} (first cold run)")
        print(
            "  statuses of the timed run: "
            + ", ".join(f"{k}: {n}" for k, n in sorted(statuses.get(strategy, Counter()).items()))
            + " (only proven and verified fixes are written; with no tests nothing is called verified)"
        )
        print("  outcome below: the same fixes applied with --no-verify, then `mamori scan` of the result")
        print(
            f"  moved to a version no known advisory affects: {len(moved)}/{len(with_fix)} "
            f"({100 * len(moved) / max(len(with_fix), 1):.1f}%); of those with a known safe version: "
            f"{len(moved & safe_known)}/{len(safe_known)} "
            f"({100 * len(moved & safe_known) / max(len(safe_known), 1):.1f}%)"
        )
        fl = outcome["fixable_left"]
        print(
            f"  re-scan: {len(outcome['left'])} packages still flagged; fixable left (a safe version is known): "
            f"{len(fl)}{' ' + ', '.join(sorted(fl)) if fl else ''}"
        )
        print(
            f"  no version free of known advisories: {len(outcome['no_safe'])} "
            f"({', '.join(sorted(outcome['no_safe']))})"
        )
        if strategy == "latest-safe":
            for name, why in sorted(outcome["no_safe"].items())[:3]:
                print(f"    e.g. {name}: {why}")
        if strategy == "in-place":
            within = fl - set(outcome["other_major"])
            print(
                f"  fixable left within the same major (goal 0): {len(within)}"
                f"{' ' + ', '.join(sorted(within)) if within else ''}"
            )
            print(
                "  safe only in another major version (left as is, options reported): "
                f"{len(outcome['other_major'])}"
            )
            for name, why in sorted(outcome["other_major"].items())[:3]:
                print(f"    e.g. {name}: {why}")
        if outcome["times"]:
            print(
                f"  from the report: median seconds from scan start to a verified fix "
                f"{statistics.median(outcome['times']):.2f} (n={len(outcome['times'])}, verified by re-scan: "
                "no tests in this project)"
            )
    print("anchor: none (no other tool upgrades pins offline against these advisories)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
