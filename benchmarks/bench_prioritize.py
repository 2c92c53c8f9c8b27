"""How much prioritisation (KEV, EPSS, CVSS, reachability, SSVC) adds to a scan.

Goal (issue 5): under 10% of scan time on a 10,000-component inventory.

Generates, in a temporary folder outside the repository: a CycloneDX SBOM of 10,000 PyPI
components, an OSV archive of advisories of which about a third hit those components (each with
a CVE alias and a CVSS vector), an EPSS CSV scoring every CVE, and uses the real CISA KEV
catalogue from ``../shared/data``. Then times warm in-process scans with prioritisation on and
off (median of several runs) and prints both and the ratio.

Run: ``.venv/bin/python benchmarks/bench_prioritize.py [--components 10000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEV = REPO.parent / "shared" / "data" / "cisa-kev" / "known_exploited_vulnerabilities.json"

VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
]


def generate(
    folder: Path, n_components: int, hit_share: float = 0.1, seed: int = 7
) -> tuple[Path, Path, Path]:
    """SBOM, advisory archive and EPSS file; about ``hit_share`` of components get a finding."""
    rng = random.Random(seed)
    kev_cves = [v["cveID"] for v in json.loads(KEV.read_text())["vulnerabilities"]]
    components = []
    for i in range(n_components):
        version = f"{rng.randint(0, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        components.append(
            {
                "type": "library",
                "name": f"pkg-{i}",
                "version": version,
                "purl": f"pkg:pypi/pkg-{i}@{version}",
                "bom-ref": f"c{i}",
            }
        )
    sbom = folder / "bom.cdx.json"
    sbom.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components})
    )
    archive = folder / "all.zip"
    epss_lines = ["#model_version:v2025.03.14,score_date:2026-11-26T00:00:00Z", "cve,epss,percentile"]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n_components * 2):
            # 2n advisories; a fraction lands on a component so that about hit_share of them are vulnerable
            target = rng.randrange(int(n_components * 2 / hit_share))
            cve = kev_cves[i % len(kev_cves)] if i % 25 == 0 else f"CVE-2030-{100000 + i}"
            record = {
                "id": f"GHSA-bench-{i:06d}",
                "modified": "2026-01-01T00:00:00Z",
                "aliases": [cve],
                "summary": f"synthetic advisory {i}",
                "severity": [{"type": "CVSS_V3", "score": VECTORS[i % len(VECTORS)]}],
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": f"pkg-{target}"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0.0"}]}
                        ],
                    }
                ],
                "database_specific": {"cwe_ids": ["CWE-79"] if i % 2 else ["CWE-94"]},
            }
            zf.writestr(f"{record['id']}.json", json.dumps(record))
            epss_lines.append(f"{cve},{rng.random() ** 3:.5f},{rng.random():.5f}")
    epss = folder / "epss.csv"
    epss.write_text("\n".join(epss_lines) + "\n")
    return sbom, archive, epss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--components", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--hit-share",
        type=float,
        action="append",
        help="share of components with a finding (repeatable; default: 0.1 and 0.65)",
    )
    args = ap.parse_args()
    for share in args.hit_share or [0.1, 0.65]:
        measure(args.components, args.runs, share)


def measure(components: int, runs: int, hit_share: float) -> None:
    """Build a database and an SBOM with ``hit_share`` of vulnerable components; time scans."""
    with tempfile.TemporaryDirectory(prefix="mamori-bench-prio-") as tmp:
        folder = Path(tmp)
        os.environ["MAMORI_HOME"] = str(folder / "home")
        sys.path.insert(0, str(REPO / "src"))
        from mamori.advisories.store import AdvisoryStore
        from mamori.config import advisory_db_path
        from mamori.scan import ScanOptions, scan_targets

        sbom, archive, epss = generate(folder, components, hit_share)
        t0 = time.perf_counter()
        AdvisoryStore(advisory_db_path()).import_paths([archive, KEV, epss])
        print(
            f"database: {components * 2} advisories + KEV + EPSS imported in {time.perf_counter() - t0:.2f}s"
        )

        def timed(prioritize: bool) -> tuple[float, int]:
            # CPU time of this process: the machine may be shared, wall time is noisy.
            opts = ScanOptions(offline=True, code=False, record=False, prioritize=prioritize)
            t = time.process_time()
            report = scan_targets([sbom], opts)
            return time.process_time() - t, len(report.findings)

        timed(True)  # warm caches (SQLite pages, version parsing)
        off: list[float] = []
        on: list[float] = []
        findings = 0
        for _ in range(runs):  # interleaved, so load changes hit both alike
            off.append(timed(False)[0])
            t, findings = timed(True)
            on.append(t)
        t_off, t_on = statistics.median(off), statistics.median(on)
        print(
            f"inventory: {components} components, {findings} findings ({hit_share:.0%} of components targeted)"
        )
        print(f"scan without prioritisation: {t_off:.3f} CPU s (median of {runs}, min {min(off):.3f})")
        print(f"scan with prioritisation:    {t_on:.3f} CPU s (median of {runs}, min {min(on):.3f})")
        print(f"prioritisation adds {100 * (t_on - t_off) / t_off:.1f}% (goal < 10%)")


if __name__ == "__main__":
    main()
