"""Matching accuracy against the real PyPA Advisory Database, with an independent oracle.

Run: ``.venv/bin/python benchmarks/bench_matching_pypa.py [--packages 300] [--keep DIR]``

1. Picks old pins for N packages from ``../shared/data/pypa-advisory-db/vulns`` (versions the
   advisories enumerate, plus versions exactly at a ``fixed`` boundary) and writes them as
   requirement files into a temporary project.
2. Imports the whole PyPA set into a fresh MAMORI_HOME with ``mamori db import`` (timed, peak RSS).
3. Scans the project with ``mamori scan DIR --offline --no-code --format json`` (timed, peak RSS).
4. Compares the reported (advisory, package, version) pairs with the oracle: an advisory affects
   a pin iff the version is in that advisory's explicit ``versions`` list. Every reported pair
   outside the oracle is printed with its justification; missed pairs must be 0.

The PyPA data is CC-BY-4.0 (pypa/advisory-database, snapshot 2024-10-10).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gen import (
    PYPA_VULNS,
    PyPARecord,
    choose_pins,
    in_ecosystem_range,
    load_pypa,
    mamori_cmd,
    run_measured,
    write_requirement_files,
)

Pair = tuple[str, str, str]
"""(PyPA advisory id, normalised package name, version)."""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _same_version(a: str, b: str) -> bool:
    try:
        return a != b and Version(a) == Version(b)
    except InvalidVersion:
        return False


def _written_pair(version: str, ranges: Sequence[Sequence[tuple[str, str]]]) -> tuple[str, str] | None:
    """The (introduced, fixed) pair, in the order the advisory writes its events, holding
    ``version`` — the reading of ranges merged from adjacent ones that tie at a boundary."""
    from packaging.version import InvalidVersion, Version

    try:
        target = Version(version)
    except InvalidVersion:
        return None
    for events in ranges:
        start: str | None = None
        for kind, value in events:
            if kind == "introduced":
                start = value
            elif kind == "fixed" and start is not None:
                try:
                    low = Version("0") if start == "0" else Version(start)
                    if low <= target < Version(value):
                        return start, value
                except InvalidVersion:
                    pass
                start = None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a pair is missed or unjustified."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    if not PYPA_VULNS.is_dir():
        print(f"PyPA data not found at {PYPA_VULNS}", file=sys.stderr)
        return 2

    work = args.keep or Path(tempfile.mkdtemp(prefix="mamori-bench-pypa-"))
    work.mkdir(parents=True, exist_ok=True)
    home, project = work / "home", work / "project"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(project, ignore_errors=True)
    env = {**os.environ, "MAMORI_HOME": str(home)}

    records = [r for r in load_pypa() if not r.withdrawn]
    pins = choose_pins(records, n_packages=args.packages)
    files = write_requirement_files(pins, project)
    n_pins = sum(len(v) for v in pins.values())
    print(
        f"PyPA advisories: {len({r.id for r in records})} (not withdrawn); data CC-BY-4.0 pypa/advisory-database"
    )
    print(f"pins: {n_pins} for {len(pins)} packages in {len(files)} requirement files")

    imp = run_measured([*mamori_cmd(), "db", "import", str(PYPA_VULNS)], env)
    print(
        f"\nmamori db import: exit {imp.code}, {imp.seconds:.2f} s, peak RSS {imp.peak_rss_kib / 1024:.1f} MiB"
    )
    if imp.code != 0:
        print(imp.out[-2000:], imp.err[-2000:])
        return 2

    out = work / "report.json"
    scan = run_measured(
        [*mamori_cmd(), "scan", str(project), "--offline", "--no-code", "--format", "json", "-o", str(out)],
        env,
    )
    print(
        f"mamori scan:      exit {scan.code}, {scan.seconds:.2f} s, peak RSS {scan.peak_rss_kib / 1024:.1f} MiB"
    )
    if scan.code not in (0, 1) or not out.exists():
        print(scan.out[-2000:], scan.err[-2000:])
        return 2
    report = json.loads(out.read_text(encoding="utf-8"))

    # index the PyPA records by every id they are known under
    by_name: dict[str, list[PyPARecord]] = defaultdict(list)
    for rec in records:
        by_name[_norm(rec.package)].append(rec)

    oracle: set[Pair] = set()
    for name, versions in pins.items():
        for v in versions:
            for rec in by_name[_norm(name)]:
                if v in rec.versions:
                    oracle.add((rec.id, _norm(name), v))

    reported: set[Pair] = set()
    unmapped: list[str] = []
    for f in report["findings"]:
        if f["kind"] != "dependency":
            continue
        pkg, adv = f["package"], f["advisory"]
        ids = {adv["id"], *adv.get("aliases", [])}
        name = _norm(pkg["name"])
        hit = [rec for rec in by_name[name] if rec.id in ids]
        if not hit:
            unmapped.append(f"{adv['id']} {name} {pkg['version']}")
        for rec in hit:
            reported.add((rec.id, name, pkg["version"]))

    records_by_id = {r.id: r for r in records}
    extra = sorted(reported - oracle)
    missed = sorted(oracle - reported)
    unjustified = 0
    print(f"\nreported pairs:               {len(reported)}")
    print(f"oracle pairs:                 {len(oracle)}")
    print(f"reported, not in oracle:      {len(extra)}")
    for vid, name, v in extra:
        rec = records_by_id[vid]
        inside = [r for r in rec.ranges if in_ecosystem_range(v, r)]
        twins = [
            o for o in oracle if o[1:] == (name, v) and set(records_by_id[o[0]].aliases) & set(rec.aliases)
        ]
        same = [e for e in rec.versions if _same_version(e, v)]
        if same:
            reason = f"PEP 440 equal to the enumerated version {same[0]!r}"
        elif inside:
            reason = "inside an ECOSYSTEM range but not in the enumerated versions list"
        elif twins:
            reason = f"alias of {twins[0][0]}, which lists this version"
        elif pair := _written_pair(v, rec.ranges):
            reason = (
                f"inside the pair introduced {pair[0]} / fixed {pair[1]} as the advisory writes it "
                "(its events tie at a version where one range ends and the next begins)"
            )
        else:
            reason = "UNJUSTIFIED"
            unjustified += 1
        print(f"  {vid:<18} {name} {v}: {reason}")
    print(f"missed (must be 0):           {len(missed)}")
    for vid, name, v in missed:
        print(f"  {vid:<18} {name} {v}")
    if unmapped:
        print(f"findings naming no PyPA record: {len(unmapped)}")
        for u in unmapped[:20]:
            print("  " + u)
    if report.get("errors"):
        print(f"scan errors: {len(report['errors'])}")
        for e in report["errors"][:10]:
            print(f"  {e}")
    print(f"\nwork folder: {work}" + ("" if args.keep else " (temporary)"))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed or unjustified else 0


if __name__ == "__main__":
    sys.exit(main())
