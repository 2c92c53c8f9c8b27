"""Benchmark: ``mamori scan DIR --no-deps --offline`` as users run it, cold and warm, beside Bandit.

Every figure is of a whole child process (``os.wait4``): CPU seconds (user + system), wall seconds
and peak RSS. Each is run ``--repeat`` times (3 by default); the median and the spread are printed
with the load average (the machine may be shared).

- mamori *cold*: a fresh, empty MAMORI_HOME (no code cache; nothing for the input ships in mamori).
- mamori *re-scan*: the same command again on that MAMORI_HOME, the tree unchanged.
- mamori *one file changed*: after appending a comment to ``--touch`` (default
  ``utils/functional.py``, which most of Django imports).
- Bandit: ``bandit -r -q -f json -o /dev/null DIR`` (its default rules), in the same run.
- Semgrep CE (with ``--semgrep`` and ``--semgrep-rules``): ``semgrep scan --config RULES
  --metrics=off`` with semgrep/semgrep-rules' ``python/`` folder merged into one file (its
  registry is unreachable here), in the same run.

The JSON report's ``stats`` (files covered, files analysed in this run) is printed for each mamori
run, so a re-scan that analysed anything shows it.

Usage (from the repository root; Django's source fetched outside the repository)::

    .venv/bin/python benchmarks/bench_code_cli.py DJANGO_SRC/django [--repeat 3]
        [--bandit ../ext/banditvenv/bin/bandit]
        [--semgrep ../ext/semgrepvenv/bin/semgrep --semgrep-rules ../ext/semgrep-rules/python-merged.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _gen import CODE_CACHE_RACY_SECONDS, Run, mamori_cmd, run, summary


def _stats(out: Path) -> str:
    try:
        stats = json.loads(out.read_text())["stats"]
    except (OSError, ValueError, KeyError):
        return "no report"
    return f"{stats['code_files_analysed']} of {stats['code_files']} files analysed"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bandit", default=shutil.which("bandit") or "bandit")
    parser.add_argument("--touch", default="utils/functional.py")
    parser.add_argument("--semgrep", help="the semgrep command (Semgrep CE), optional")
    parser.add_argument("--semgrep-rules", type=Path, help="one YAML file of Semgrep rules")
    args = parser.parse_args()
    env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print(f"load average before: {os.getloadavg()}")
    cold: list[Run] = []
    warm: list[Run] = []
    changed: list[Run] = []
    bandit: list[Run] = []
    semgrep: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / args.source.name
        shutil.copytree(args.source, tree)
        # a user's tree was not written in the second before the scan: the code cache trusts a
        # file's stat record only when its ctime is CODE_CACHE_RACY_SECONDS older than the recording scan
        time.sleep(CODE_CACHE_RACY_SECONDS + 0.5)
        out = Path(tmp) / "report.json"
        cmd = [*mamori_cmd(), "scan", str(tree), "--no-deps", "--offline", "--format", "json", "-o", str(out)]
        for i in range(args.repeat):
            home = Path(tmp) / f"home{i}"
            env = {**env0, "MAMORI_HOME": str(home)}
            cold.append(run(cmd, env=env))
            print(f"  cold run {i + 1}: {cold[-1].cpu:.2f} CPU s, {_stats(out)}", flush=True)
            warm.append(run(cmd, env=env))
            print(f"  re-scan {i + 1}: {warm[-1].wall:.2f} wall s, {_stats(out)}", flush=True)
            target = tree / args.touch
            target.write_text(target.read_text() + f"\n# touched {i}\n")
            changed.append(run(cmd, env=env))
            print(f"  one file changed {i + 1}: {changed[-1].wall:.2f} wall s, {_stats(out)}", flush=True)
            bandit.append(run([args.bandit, "-r", "-q", "-f", "json", "-o", os.devnull, str(tree)], env=env0))
            print(f"  bandit run {i + 1}: {bandit[-1].cpu:.2f} CPU s (exit {bandit[-1].code})", flush=True)
            if args.semgrep and args.semgrep_rules:
                sg = [args.semgrep, "scan", "--config", str(args.semgrep_rules), "--metrics=off"]
                sg += ["--disable-version-check", "--json", "-o", os.devnull, "-q", str(tree)]
                semgrep.append(run(sg, env=env0))
                print(
                    f"  semgrep run {i + 1}: {semgrep[-1].cpu:.2f} CPU s (exit {semgrep[-1].code})",
                    flush=True,
                )
    print()
    m_cold = summary("mamori scan, cold", cold)
    summary("mamori re-scan, unchanged", warm)
    summary("mamori, one file changed", changed)
    b = summary("bandit -r", bandit)
    print(f"\ncold CPU ratio (Bandit / mamori): {b / m_cold:.2f}x")
    if semgrep:
        sgm = summary("semgrep scan (CE)", semgrep)
        print(f"cold CPU ratio (Semgrep / mamori): {sgm / m_cold:.2f}x")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
