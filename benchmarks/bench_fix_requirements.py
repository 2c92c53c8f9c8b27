"""Benchmark: upgrading old pins in requirements files against the real PyPA advisories.

Usage: python benchmarks/bench_fix_requirements.py [--packages N] [--index pypi|URL]

Builds an advisory database from ``../shared/data/pypa-advisory-db`` (PyPA Advisory Database,
CC-BY-4.0), writes a requirements file pinning, for N packages, the oldest version an advisory
lists as affected, and runs ``fix_project`` on a fresh copy once per strategy (``in-place`` and
``latest-safe``, same run, same database). Released versions come from the versions the
advisories name, or, with ``--index``, from the package index (``pypi`` = pypi.org's JSON API,
cached under MAMORI_HOME; or the base URL of a mirror serving the same JSON).

Printed per strategy: how many components that have a fixed version were moved to a version no
known advisory affects; how many a re-scan still flags, and of those how many still have a known
safe version ("fixable left", the goal is 0 for latest-safe); for in-place, how many are safe
only in another major version (with the options the report gives); the median time from scan
start to verified fix.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from mamori.advisories.store import AdvisoryStore
from mamori.fix import fix_project
from mamori.fix._choose import VersionChooser
from mamori.fix._index import PackageIndex
from mamori.inventory.interface import Component
from mamori.model import Report
from mamori.scan import ScanOptions, scan_targets

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


def _flagged(project: Path, db: Path) -> Report:
    return scan_targets([project], ScanOptions(offline=True, record=False, database=db, code=False))


def _cache_dir() -> Path | None:
    try:
        from mamori.config import mamori_home

        return mamori_home() / "cache" / "index"
    except Exception:
        return None


def _run(
    strategy: str, template: Path, work: Path, db: Path, safe_known: set[str], index: bool
) -> dict[str, Any]:
    project = work / strategy
    shutil.copytree(template, project)
    report = fix_project(
        project, database=db, code=False, offline=True, index=index, apply=True, strategy=strategy
    )
    after = _flagged(project, db)
    left = {f.package.name for f in after.findings if f.package}
    other_major: dict[str, str] = {}
    no_safe: dict[str, str] = {}
    for r in report.results:
        if r.status != "not_possible":
            continue
        name = r.summary.split(" ")[0]
        if any("new major version" in o for o in r.options):
            other_major[name] = f"{r.why}; options: " + " | ".join(r.options)
        else:
            no_safe[name] = r.why
    return {
        "report": report,
        "left": left,
        "fixable_left": left & safe_known,
        "other_major": other_major,
        "no_safe": no_safe,
        "times": [r.seconds_to_verified for r in report.results if r.seconds_to_verified is not None],
        "text": (project / "requirements.txt").read_text(encoding="utf-8"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=60)
    parser.add_argument(
        "--index",
        default="",
        help="ask a package index for released versions: 'pypi' (pypi.org) or a base URL",
    )
    args = parser.parse_args()
    if args.index and args.index != "pypi":
        os.environ["MAMORI_PYPI_URL"] = args.index
    use_index = bool(args.index)
    with tempfile.TemporaryDirectory(prefix="mamori-bench-req-") as tmp:
        root = Path(tmp)
        db = root / "db.sqlite"
        t0 = time.perf_counter()
        store = AdvisoryStore(db)
        store.import_paths([DB])
        load_s = time.perf_counter() - t0
        pins = [p for p in (_old_pin(d) for d in sorted(DB.iterdir()) if d.is_dir()) if p][: args.packages]
        template = root / "template"
        template.mkdir()
        (template / "requirements.txt").write_text(
            "# old pins\n" + "".join(f"{name}=={version}\n" for name, version in pins), encoding="utf-8"
        )
        before = _flagged(template, db)
        vulnerable = {f.package.name for f in before.findings if f.package}
        with_fix = {f.package.name for f in before.findings if f.package and f.advisory and f.advisory.fixed}
        # Which of them have a version no known advisory affects, from the same candidate source
        # the fix uses (independent of the fix's own bookkeeping).
        chooser = VersionChooser(
            store, PackageIndex(offline=not use_index, cache_dir=_cache_dir() if use_index else None)
        )
        safe_known: set[str] = set()
        unreachable = False
        for f in before.findings:
            pkg = f.package
            if pkg is None or pkg.name not in with_fix or pkg.name in safe_known:
                continue
            hint = tuple(
                v for g in before.findings if g.package == pkg and g.advisory for v in g.advisory.fixed
            )
            component = Component(pkg.ecosystem, pkg.name, pkg.version, f.location, purl=pkg.purl)
            choice = chooser.choose(component, hint, "latest-safe")
            unreachable = unreachable or choice.source != "index"
            if choice.version is not None:
                safe_known.add(pkg.name)
        runs = {s: _run(s, template, root, db, safe_known, use_index) for s in ("in-place", "latest-safe")}
    source = (
        ("the package index" + (" (some answers missing: advisories used for those)" if unreachable else ""))
        if use_index
        else "the versions the advisories name (offline)"
    )
    print("PyPA Advisory Database snapshot 2024-10-10 (CC-BY-4.0) — mamori fix on old requirement pins")
    print(f"advisories imported in {load_s:.1f}s; released versions from {source}")
    print(
        f"{len(pins)} pinned packages, {len(vulnerable)} vulnerable, {len(with_fix)} with a fixed version named, "
        f"{len(safe_known)} with a known version no advisory affects"
    )
    for strategy, run in runs.items():
        moved = with_fix - run["left"]
        print(f"\n--strategy {strategy}")
        print(
            f"  moved to a version no known advisory affects: {len(moved)}/{len(with_fix)} "
            f"({100 * len(moved) / max(len(with_fix), 1):.1f}%); of those with a known safe version: "
            f"{len(moved & safe_known)}/{len(safe_known)} ({100 * len(moved & safe_known) / max(len(safe_known), 1):.1f}%)"
        )
        print(
            f"  re-scan: {len(run['left'])} packages still flagged; fixable left (a safe version is known): "
            f"{len(run['fixable_left'])}{' ' + ', '.join(sorted(run['fixable_left'])) if run['fixable_left'] else ''}"
        )
        print(
            f"  no version free of known advisories: {len(run['no_safe'])} ({', '.join(sorted(run['no_safe']))})"
        )
        if strategy == "latest-safe":
            for name, why in sorted(run["no_safe"].items())[:3]:
                print(f"    e.g. {name}: {why}")
        if strategy == "in-place":
            within = run["fixable_left"] - set(run["other_major"])
            print(
                f"  fixable left within the same major (goal 0): {len(within)}"
                f"{' ' + ', '.join(sorted(within)) if within else ''}"
            )
            print(
                f"  safe only in another major version (left as is, options reported): {len(run['other_major'])}"
            )
            for name, why in sorted(run["other_major"].items())[:3]:
                print(f"    e.g. {name}: {why}")
        if run["times"]:
            print(
                f"  median time from scan start to verified fix: {statistics.median(run['times']):.2f}s "
                f"(n={len(run['times'])}, verified by re-scan: no tests in this project)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
