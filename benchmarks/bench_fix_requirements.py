"""Benchmark: upgrading old pins in requirements files against the real PyPA advisories.

Usage: python benchmarks/bench_fix_requirements.py [--packages N]

Builds an advisory database from ``../shared/data/pypa-advisory-db`` (PyPA Advisory Database,
CC-BY-4.0), writes a requirements file pinning, for N packages, the oldest version an advisory
lists as affected, and runs ``fix_project`` offline (versions from the advisories only). Prints
how many components with a fixed version were moved to a version no known advisory affects, how
many findings a re-scan still reports, and the median time from scan start to verified patch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from mamori.advisories.store import AdvisoryStore
from mamori.fix import fix_project
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=60)
    parser.add_argument("--strategy", default="in-place", choices=["in-place", "latest-safe"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-req-") as tmp:
        root = Path(tmp)
        db = root / "db.sqlite"
        t0 = time.perf_counter()
        AdvisoryStore(db).import_paths([DB])
        load_s = time.perf_counter() - t0
        pins = [p for p in (_old_pin(d) for d in sorted(DB.iterdir()) if d.is_dir()) if p][: args.packages]
        project = root / "project"
        project.mkdir()
        (project / "requirements.txt").write_text(
            "# old pins\n" + "".join(f"{name}=={version}\n" for name, version in pins), encoding="utf-8"
        )
        before = scan_targets([project], ScanOptions(offline=True, record=False, database=db, code=False))
        vulnerable = {f.package.name for f in before.findings if f.package}
        with_fix = {f.package.name for f in before.findings if f.package and f.advisory and f.advisory.fixed}
        report = fix_project(
            project, database=db, code=False, offline=True, apply=True, strategy=args.strategy
        )
        after = scan_targets([project], ScanOptions(offline=True, record=False, database=db, code=False))
        left = {f.package.name for f in after.findings if f.package}
        left_fixable = {
            f.package.name for f in after.findings if f.package and f.advisory and f.advisory.fixed
        }
        moved = with_fix - left
        times = [r.seconds_to_verified for r in report.results if r.seconds_to_verified is not None]
        not_possible = {r.summary.split(" ")[0] for r in report.results if r.status == "not_possible"}
    print("PyPA Advisory Database snapshot 2024-10-10 (CC-BY-4.0) — mamori fix on old requirement pins")
    print(
        f"advisories imported in {load_s:.1f}s; {len(pins)} pinned packages, {len(vulnerable)} vulnerable, {len(with_fix)} with a fixed version"
    )
    print(
        f"moved to a version no known advisory affects: {len(moved)}/{len(with_fix)} ({100 * len(moved) / max(len(with_fix), 1):.1f}%)"
    )
    print(
        f"re-scan: {len(left)} packages still flagged, {len(left_fixable)} of them with a fixed version available"
    )
    print(f"strategy {args.strategy}: no safe version for {len(not_possible)} packages")
    if times:
        print(
            f"median time from scan start to verified fix: {statistics.median(times):.2f}s (n={len(times)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
