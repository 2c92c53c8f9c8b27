"""Speed of mamori's code analysis on Django's own source, against Bandit in the same run.

Usage: python benchmarks/bench_code_speed.py DJANGO_SOURCE_DIR
   Get it outside the repository:  pip download django==5.2 --no-deps -d /tmp/dj &&
   python -c "import zipfile,glob; zipfile.ZipFile(glob.glob('/tmp/dj/*.whl')[0]).extractall('/tmp/dj/src')"
   then pass /tmp/dj/src/django.
Prints: cold scan time and peak memory (single process), Bandit's time, the ratio, and the time
of a re-scan after one file changed (with the cache).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    src = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(ROOT / "src"))
    from mamori.analysis import scan_code

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "django"
        shutil.copytree(src, work)
        cache = Path(tmp) / "cache"
        t0 = time.perf_counter()
        cold = scan_code(work)
        t_cold = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"mamori cold: {cold.files_scanned} files in {t_cold:.2f} s, peak RSS {peak_mb:.0f} MB, "
            f"{len(cold.findings)} findings, {len(cold.errors)} errors"
        )
        scan_code(work, cache_dir=cache)
        target = work / "views" / "generic" / "base.py"
        target.write_text(target.read_text() + "\n# changed\n")
        t0 = time.perf_counter()
        scan_code(work, cache_dir=cache)
        t_warm = time.perf_counter() - t0
        print(f"mamori re-scan after one file changed: {t_warm:.2f} s")
        exe = Path(sys.executable).with_name("bandit")
        if exe.exists():
            t0 = time.perf_counter()
            subprocess.run(
                [str(exe), "-r", str(work), "-f", "json", "-o", str(Path(tmp) / "b.json"), "-q"],
                capture_output=True,
                check=False,
            )
            t_b = time.perf_counter() - t0
            print(f"bandit: {t_b:.2f} s; mamori is {t_b / t_cold:.2f}x as fast")
        else:
            print("bandit not installed; no ratio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
