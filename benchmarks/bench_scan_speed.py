"""Scan speed and memory on a large advisory database and a 10,000-component SBOM.

Run: ``.venv/bin/python benchmarks/bench_scan_speed.py [--advisories 200000] [--components 10000]``

Generates, in a temporary folder outside the repository, a synthetic OSV database of realistic
shape (PyPI, npm, Maven, Go and crates.io; 1–3 affected packages per record; ECOSYSTEM and SEMVER
ranges; some explicit ``versions`` lists; CVE aliases) as one osv.dev-style zip, imports it with
``mamori db import`` (timed, peak RSS), writes a CycloneDX 1.6 SBOM of which about a tenth of the
components sit inside an advisory's range, then measures:

* ``mamori scan sbom.cdx.json --offline --format json -o /dev/null`` in a subprocess, start-up
  included: the first scan after the import (goal: under 3 s) and three more (goal: under 1 s);
* a warm in-process scan through ``mamori.scan.scan_targets`` (goal: under 1 s), with its
  Python-heap peak (tracemalloc) and this process's peak RSS.

osv-scanner is not run beside it: it ships as a Go binary from GitHub releases, which this
environment cannot download. pip-audit queries the network for every run, so it is skipped too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gen import (
    mamori_cmd,
    now,
    run_measured,
    self_peak_rss_kib,
    write_osv_zip,
    write_sbom,
)


def main(argv: list[str] | None = None) -> int:
    """Generate the inputs, run the measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisories", type=int, default=200_000)
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="mamori-bench-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "MAMORI_HOME": str(home)}

    zpath, sbom = work / "osv" / "all.zip", work / "sbom.cdx.json"
    t = now()
    intervals = write_osv_zip(args.advisories, zpath)
    placed = write_sbom(intervals, sbom, components=args.components)
    print(
        f"generated {args.advisories:,} advisories ({zpath.stat().st_size / 2**20:.1f} MiB zip) "
        f"and a {args.components:,}-component SBOM ({placed:,} placed inside a range) in {now() - t:.1f} s"
    )

    imp = run_measured([*mamori_cmd(), "db", "import", str(zpath)], env)
    print(
        f"\nmamori db import:   exit {imp.code}, {imp.seconds:8.2f} s, peak RSS {imp.peak_rss_kib / 1024:7.1f} MiB"
    )
    if imp.code != 0:
        print(imp.out[-2000:], imp.err[-2000:])
        return 2
    db_file = home / "advisories.sqlite"
    if db_file.exists():
        print(f"database file:      {db_file.stat().st_size / 2**20:.1f} MiB")

    report_path = work / "report.json"
    runs = (("cold", "/dev/null", 3.0), *((f"warm {i + 1}", str(report_path), 1.0) for i in range(3)))
    for label, out, limit in runs:
        cli = run_measured(
            [*mamori_cmd(), "scan", str(sbom), "--offline", "--format", "json", "-o", out], env, cwd=work
        )
        goal = "ok" if cli.seconds < limit else f"OVER the {limit:g} s goal"
        print(
            f"mamori scan ({label}): exit {cli.code}, {cli.seconds:8.2f} s, "
            f"peak RSS {cli.peak_rss_kib / 1024:7.1f} MiB  [{goal}]"
        )
        if cli.code not in (0, 1):
            print(cli.err[-2000:])
            return 2
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        hit = {f["package"]["purl"] for f in report["findings"] if f.get("package")}
        print(
            f"findings: {len(report['findings']):,} on {len(hit):,} components "
            f"({placed:,} were placed inside a range; errors: {len(report.get('errors', []))})"
        )

    os.environ["MAMORI_HOME"] = str(home)
    try:
        from mamori.scan import ScanOptions, scan_targets
    except ImportError as exc:
        print(f"in-process scan skipped: {exc}")
        return 0
    options = ScanOptions(offline=True, code=False, database=db_file, record=False)
    t = now()
    first = scan_targets([sbom], options)
    cold_in = now() - t
    warm_runs = []
    for _ in range(3):  # warm: the OS page cache and this process's caches are filled
        t = now()
        second = scan_targets([sbom], options)
        warm_runs.append(now() - t)
    warm_in = statistics.median(warm_runs)
    goal = "ok" if warm_in < 1 else "OVER the 1 s goal"
    print(
        f"\nin-process scan_targets: first {cold_in:.2f} s, warm {warm_in:.2f} s [{goal}] "
        f"(median of {len(warm_runs)}: {', '.join(f'{w:.2f}' for w in warm_runs)})"
    )
    tracemalloc.start()
    scan_targets([sbom], options)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  findings {len(second.findings):,} (first run {len(first.findings):,}); "
        f"Python heap peak {heap_peak / 2**20:.1f} MiB (one more run under tracemalloc); "
        f"process peak RSS {self_peak_rss_kib() / 1024:.1f} MiB"
    )

    print("\nosv-scanner: not run (a Go binary from GitHub releases; no such downloads here)")
    print("pip-audit: not run (it queries the network on every run)")
    print(f"work folder: {work}" + ("" if args.keep else " (temporary, removed)"))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
