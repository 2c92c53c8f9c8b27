"""Peak memory and outcome of ``mamori scan`` on hostile inputs (issue 11's judge).

Each input is generated into a scratch folder and scanned by a fresh ``python -m mamori scan
--offline --no-record -f json -o report.json`` under a 3 GiB address-space limit and a 60 s
timeout; the figures are that process's peak RSS (``os.wait4``), its exit code, whether the
report was written and how many errors it lists.

    python benchmarks/bench_hostile.py [--src SRC] [CASE ...]

``--src`` runs another checkout's ``src`` (to compare before and after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LIMIT_AS = 3 * 1024**3
TIMEOUT = 60.0


def _parens(p: Path) -> None:
    (p / "deep.py").write_text("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n")
    (p / "ok.py").write_text("import os\n")


def _terms(p: Path) -> None:
    (p / "long.py").write_text("x = " + " + ".join(["1"] * 200_000) + "\n")
    (p / "ok.py").write_text("import os\n")


def _toml(p: Path) -> None:
    deep = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"
    (p / "mamori.toml").write_text(deep)
    (p / "pyproject.toml").write_text('[project]\nname = "x"\n' + deep)
    (p / "ok.py").write_text("import os\n")


def _loop(p: Path) -> None:
    (p / "pkg").mkdir()
    (p / "pkg" / "m.py").write_text("import os\n")
    (p / "requirements.txt").write_text("requests==2.0.0\n")
    os.symlink(".", p / "a")
    os.symlink("..", p / "pkg" / "up")


def _lock_objects(p: Path) -> None:
    n = 30 * 1024 * 1024 // 3
    body = ",".join(["{}"] * n)
    (p / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": [' + body + "]}")


def _lock_deep(p: Path) -> None:
    (p / "package-lock.json").write_text("[" * 1_000_000 + "]" * 1_000_000)
    (p / "composer.lock").write_text('{"packages": ' + "[" * 100_000 + "]" * 100_000 + "}")


def _special(p: Path) -> None:
    os.mkfifo(p / "package-lock.json")
    os.symlink("/dev/zero", p / "poetry.lock")
    (p / "requirements.txt").write_text("requests==2.0.0\n")


CASES: dict[str, Callable[[Path], None]] = {
    "parens-3000": _parens,
    "terms-200k": _terms,
    "toml-100k-deep": _toml,
    "symlink-loop": _loop,
    "package-lock-30MB-of-{}": _lock_objects,
    "json-1M-deep": _lock_deep,
    "fifo-and-dev-zero": _special,
}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def run(case: str, src: str | None) -> dict[str, object]:
    """Generate ``case`` and scan it; its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        CASES[case](project)
        size = sum(f.stat().st_size for f in project.iterdir() if f.is_file() and not f.is_symlink())
        env = {**os.environ, "MAMORI_HOME": str(Path(tmp) / "home"), "NO_COLOR": "1"}
        if src:
            env["PYTHONPATH"] = src
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "mamori", "scan", str(project), "--offline", "--no-record"]
        cmd += ["-f", "json", "-o", str(report)]
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_limit
        )
        status, rusage = 0, None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > TIMEOUT:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors = None
        if report.exists():
            try:
                errors = len(json.loads(report.read_text()).get("errors", []))
            except ValueError:
                errors = None
        return {
            "case": case,
            "input_MB": round(size / 1e6, 1),
            "exit": proc.returncode,
            "seconds": round(time.monotonic() - start, 1),
            "peak_rss_MB": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
            "report_written": report.exists(),
            "errors_listed": errors,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="the src folder of the checkout to run")
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    args = parser.parse_args()
    for case in args.cases or CASES:
        print(json.dumps(run(case, args.src)), flush=True)


if __name__ == "__main__":
    main()
