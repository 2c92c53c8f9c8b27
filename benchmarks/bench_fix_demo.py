"""Benchmark: ``mamori fix`` on the bundled demo project as a user runs it, cold and warm.

The sample project (``src/mamori/demo/sample``: pinned vulnerable dependencies, code
weaknesses and its own tests) is copied to a temporary folder, and the user's steps run as
child processes:

1. ``mamori db import ADVISORIES`` (the bundled demo advisories) into a fresh MAMORI_HOME;
2. *cold*: ``mamori fix SAMPLE --offline --python PY --format json -o fix.json`` on that home
   (nothing cached: no code cache, no earlier fix run);
3. *warm*: the same command on a second fresh copy of the sample, same MAMORI_HOME.

Every figure is of a whole child process (``os.wait4``; its tests run as its descendants and are
counted): CPU seconds (user + system), wall seconds and peak RSS. This is repeated ``--runs``
times (3 by default) and the median and the spread (min-max) are printed with the load average
(the machine may be shared). The fix report's own figures (fix statuses, the seconds from scan
start to each verified fix) are printed from the command's JSON output.

The project's tests run in the bubblewrap sandbox when ``bwrap`` is installed; otherwise pass
``--unsafe-run-tests`` (as ``mamori demo`` does for its bundled sample). No other tool writes and
verifies fixes offline, so there is no anchor beside it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_fix_demo.py [--runs 3] [--python .venv/bin/python]
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

from _gen import DEMO_ADVISORIES, DEMO_SAMPLE, Run, mamori_cmd, run, summary


def _fix_report(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="cold+warm pairs to run (default 3)")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter the sample's tests run with"
    )
    parser.add_argument(
        "--unsafe-run-tests",
        action="store_true",
        help="run the sample's tests without the sandbox (when bubblewrap is missing)",
    )
    args = parser.parse_args()
    env0 = {k: v for k, v in os.environ.items() if k != "MAMORI_HOME"}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    imports: list[Run] = []
    cold: list[Run] = []
    warm: list[Run] = []
    statuses: Counter[str] = Counter()
    to_verified: dict[str, list[float]] = {"cold": [], "warm": []}
    method = ""
    with tempfile.TemporaryDirectory(prefix="mamori-bench-demo-") as tmp:
        root = Path(tmp)
        for i in range(args.runs):
            env = {**env0, "MAMORI_HOME": str(root / f"home{i}")}
            imports.append(run([*mamori_cmd(), "db", "import", str(DEMO_ADVISORIES)], env=env))
            if imports[-1].code != 0:
                print(f"mamori db import failed (exit {imports[-1].code})")
                return 2
            for label, runs in (("cold", cold), ("warm", warm)):
                project = root / f"sample-{i}-{label}"
                shutil.copytree(DEMO_SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
                out = root / f"fix-{i}-{label}.json"
                cmd = [*mamori_cmd(), "fix", str(project), "--offline", "--python", args.python]
                cmd += ["--format", "json", "-o", str(out)]
                if args.unsafe_run_tests:
                    cmd.append("--unsafe-run-tests")
                runs.append(run(cmd, env=env))
                report = _fix_report(out)
                raw = report.get("fixes")
                fixes = [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []
                to_verified[label] += [
                    float(f["seconds_to_verified"]) for f in fixes if f.get("seconds_to_verified") is not None
                ]
                if i == 0 and label == "cold":
                    statuses.update(str(f.get("status")) for f in fixes)
                    verification = report.get("verification") or {}
                    if isinstance(verification, dict):
                        method = f"{verification.get('method')} ({verification.get('tests') or 'no tests'})"
                print(
                    f"  run {i + 1} {label}: exit {runs[-1].code}, {runs[-1].cpu:.2f} CPU s, "
                    f"{runs[-1].wall:.2f} wall s; {report.get('summary', 'no report')}",
                    flush=True,
                )
    print("\nmamori fix on the demo sample (offline, bundled advisories), whole command:")
    summary("mamori db import (setup)", imports)
    summary("mamori fix, cold", cold)
    summary("mamori fix, warm", warm)
    print(f"verification: {method}")
    print("statuses (first cold run): " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    for label, secs in to_verified.items():
        if secs:
            print(
                f"from the command's report, {label}: median seconds from scan start to a verified fix "
                f"{statistics.median(secs):.2f} (spread {min(secs):.2f}-{max(secs):.2f}, n={len(secs)})"
            )
    print("anchor: none (no other tool writes and verifies fixes offline)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
