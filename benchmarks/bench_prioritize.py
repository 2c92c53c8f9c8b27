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


def generate(folder: Path, n_components: int, seed: int = 7) -> tuple[Path, Path, Path]:
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
            target = rng.randrange(n_components * 3)  # a third of advisories hit a component
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-bench-prio-") as tmp:
        folder = Path(tmp)
        os.environ["MAMORI_HOME"] = str(folder / "home")
        sys.path.insert(0, str(REPO / "src"))
        from mamori.advisories.store import AdvisoryStore
        from mamori.config import advisory_db_path
        from mamori.scan import ScanOptions, scan_targets

        sbom, archive, epss = generate(folder, args.components)
        t0 = time.perf_counter()
        AdvisoryStore(advisory_db_path()).import_paths([archive, KEV, epss])
        print(
            f"database: {args.components * 2} advisories + KEV + EPSS imported in {time.perf_counter() - t0:.2f}s"
        )

        def timed(prioritize: bool) -> tuple[float, int]:
            opts = ScanOptions(offline=True, code=False, record=False, prioritize=prioritize)
            t = time.perf_counter()
            report = scan_targets([sbom], opts)
            return time.perf_counter() - t, len(report.findings)

        timed(True)  # warm caches (SQLite pages, version parsing)
        off = [timed(False) for _ in range(args.runs)]
        on = [timed(True) for _ in range(args.runs)]
        t_off = statistics.median(t for t, _ in off)
        t_on = statistics.median(t for t, _ in on)
        findings = on[0][1]
        print(f"inventory: {args.components} components, {findings} findings")
        print(f"scan without prioritisation: {t_off:.3f}s (median of {args.runs})")
        print(f"scan with prioritisation:    {t_on:.3f}s (median of {args.runs})")
        print(f"prioritisation adds {100 * (t_on - t_off) / t_off:.1f}% (goal < 10%)")


if __name__ == "__main__":
    main()
