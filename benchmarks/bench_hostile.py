"""Peak memory and outcome of ``mamori scan`` and ``mamori detect`` on hostile inputs (issue
11's judge).

Each scan input is generated into a scratch folder and scanned by a fresh ``python -m mamori
scan --offline --no-record -f json -o report.json`` under a 3 GiB address-space limit and a 60 s
timeout; each detect input (``detect:`` cases) is read by ``python -m mamori detect LOGS
[--rules RULES] --no-record --format json -o report.json`` under 4 GiB and 120 s. The figures
are that process's peak RSS (``os.wait4``), its exit code, whether the report was written and
how many errors it lists (for detect: problems plus rules not loaded, and the alerts raised).

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gen import DEMO_ADVISORIES

LIMIT_AS = 3 * 1024**3
TIMEOUT = 60.0
DETECT_LIMIT_AS = 4 * 1024**3
DETECT_TIMEOUT = 120.0


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


def _pnpm_dense(p: Path) -> None:
    (p / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\npackages:\n" + "  - {}\n" * 4_300_000)
    (p / "requirements.txt").write_text("requests==2.0.0\n")


ATTACK = '"GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1" 200 5 "-" "curl"'


def _attack(second: int) -> str:
    return f"1.2.3.4 - - [10/Feb/2024:10:00:{second:02d} +0000] {ATTACK}\n"


def _d_long_line(p: Path) -> list[str]:
    with (p / "access.log").open("w") as fh:
        fh.write(_attack(0) + "A" * (40 << 20) + "\n" + _attack(1))
    return [str(p / "access.log")]


def _d_json_nodes(p: Path) -> list[str]:
    body = ",".join(["{}"] * (30 * 1024 * 1024 // 3))
    (p / "events.json").write_text('{"a": [' + body + ']}\n{"message": "after"}\n')
    (p / "access.log").write_text(_attack(0))
    return [str(p)]


def _d_json_deep(p: Path) -> list[str]:
    (p / "events.jsonl").write_text("[" * 1_000_000 + "]" * 1_000_000 + '\n{"message": "after"}\n')
    (p / "access.log").write_text(_attack(0))
    return [str(p)]


def _d_rule_nodes(p: Path) -> list[str]:
    rules = p / "rules"
    rules.mkdir()
    head = "title: t\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {category: webserver}\n"
    body = "detection:\n  sel:\n    cs-uri-query|contains:\n" + "    - a\n" * 4_000_000
    (rules / "huge.yml").write_text(head + body + "  condition: sel\n")
    (p / "access.log").write_text(_attack(0))
    return [str(p / "access.log"), "--rules", str(rules)]


def _d_condition(p: Path) -> list[str]:
    rules = p / "rules"
    rules.mkdir()
    head = "logsource: {category: webserver}\ndetection:\n  sel:\n    cs-uri-query|contains: union\n"
    (rules / "parens.yml").write_text(
        "title: p\nid: 00000000-0000-4000-8000-000000000002\n"
        + head
        + "  condition: "
        + "(" * 3000
        + "sel"
        + ")" * 3000
        + "\n"
    )
    (rules / "terms.yml").write_text(
        "title: t\nid: 00000000-0000-4000-8000-000000000003\n"
        + head
        + "  condition: "
        + " or ".join(["sel"] * 200_000)
        + "\n"
    )
    (rules / "ok.yml").write_text(  # an ordinary rule beside them: it must still load and alert
        "title: ok\nid: 00000000-0000-4000-8000-000000000004\n" + head + "  condition: sel\n"
    )
    (p / "access.log").write_text(_attack(0))
    return [str(p / "access.log"), "--rules", str(rules)]


def _d_gz_evtx_bomb(p: Path) -> list[str]:
    import zlib

    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    zero = bytes(1 << 20)
    with (p / "big.evtx.gz").open("wb") as fh:
        fh.write(comp.compress(b"ElfFile\x00" + zero[8:]))
        for _ in range(1100):
            fh.write(comp.compress(zero))
        fh.write(comp.flush())
    (p / "access.log").write_text(_attack(0))
    return [str(p / "big.evtx.gz"), str(p / "access.log")]


def _d_special(p: Path) -> list[str]:
    os.mkfifo(p / "access.log")
    os.symlink("/dev/zero", p / "syslog")
    (p / "web.log").write_text(_attack(0))
    return [str(p / "access.log"), str(p / "syslog"), str(p / "web.log"), str(p)]


def _d_loop(p: Path) -> list[str]:
    (p / "logs").mkdir()
    (p / "logs" / "web.log").write_text(_attack(0))
    os.symlink(".", p / "logs" / "a")
    os.symlink("..", p / "logs" / "up")
    return [str(p / "logs")]


def _d_bad_dates(p: Path) -> list[str]:
    line = "Feb 31 10:00:00 web sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2\n"
    (p / "auth.log").write_text(line * 3_000_000)
    return [str(p / "auth.log")]


def _d_access_3m(p: Path) -> list[str]:
    """A busy web server's day: 3,000,000 combined-format requests, an attack every 50,000."""
    paths = ("/index.html", "/api/items?id=42", "/search?q=osaka+timetable", "/static/app.js", "/login")
    with (p / "access.log").open("w") as fh:
        for i in range(3_000_000):
            when = f"10/Feb/2025:{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d} +0900"
            target = (
                "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"
                if i % 50_000 == 0
                else paths[i % 5]
            )
            fh.write(
                f'10.0.{i % 256}.7 - - [{when}] "GET {target} HTTP/1.1" 200 {i % 9000} "-" "Mozilla/5.0"\n'
            )
    return [str(p / "access.log")]


DETECT_CASES: dict[str, Callable[[Path], list[str]]] = {
    "detect:access-line-40MB": _d_long_line,
    "detect:json-30MB-of-{}": _d_json_nodes,
    "detect:json-1M-deep": _d_json_deep,
    "detect:rule-yaml-4M-nodes": _d_rule_nodes,
    "detect:condition-3000-parens-200k-terms": _d_condition,
    "detect:gzip-evtx-bomb-1.1GiB": _d_gz_evtx_bomb,
    "detect:fifo-and-dev-zero": _d_special,
    "detect:symlink-loop": _d_loop,
    "detect:3M-lines-of-Feb-31": _d_bad_dates,
    "detect:3M-access-lines": _d_access_3m,
}

CASES: dict[str, Callable[[Path], None]] = {
    "parens-3000": _parens,
    "terms-200k": _terms,
    "toml-100k-deep": _toml,
    "symlink-loop": _loop,
    "package-lock-30MB-of-{}": _lock_objects,
    "json-1M-deep": _lock_deep,
    "fifo-and-dev-zero": _special,
    "pnpm-lock-30MB-of-{}": _pnpm_dense,
}


def _limiter(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _size(folder: Path) -> int:
    return sum(
        f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink() and not f.is_fifo()
    )


def run(case: str, src: str | None) -> dict[str, object]:
    """Generate ``case`` and scan (or detect) it; its figures."""
    detect = case in DETECT_CASES
    limit, timeout = (DETECT_LIMIT_AS, DETECT_TIMEOUT) if detect else (LIMIT_AS, TIMEOUT)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        env = {**os.environ, "MAMORI_HOME": str(Path(tmp) / "home"), "NO_COLOR": "1"}
        if src:
            env["PYTHONPATH"] = src
        report = Path(tmp) / "report.json"
        if detect:
            args = DETECT_CASES[case](project)
            cmd = [sys.executable, "-m", "mamori", "detect", *args, "--no-record", "--format", "json"]
        else:
            CASES[case](project)
            # the bundled demo advisories: a scan of pinned dependencies needs a database
            subprocess.run(
                [sys.executable, "-m", "mamori", "db", "import", str(DEMO_ADVISORIES)],
                env=env,
                capture_output=True,
                check=True,
            )
            cmd = [
                sys.executable,
                "-m",
                "mamori",
                "scan",
                str(project),
                "--offline",
                "--no-record",
                "-f",
                "json",
            ]
        cmd += ["-o", str(report)]
        size = _size(project)
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_limiter(limit),
        )
        status, rusage = 0, None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors = alerts = None
        if report.exists() and report.stat().st_size:
            try:
                doc = json.loads(report.read_text())
                rules = doc.get("rules") if isinstance(doc.get("rules"), dict) else {}
                errors = len(doc.get("errors", [])) + len(rules.get("unsupported", []))
                alerts = len(doc["alerts"]) if detect and isinstance(doc.get("alerts"), list) else None
            except ValueError:
                errors = None
        figures: dict[str, object] = {
            "case": case,
            "input_MB": round(size / 1e6, 1),
            "exit": proc.returncode,
            "seconds": round(time.monotonic() - start, 1),
            "peak_rss_MB": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
            "report_written": report.exists(),
            "errors_listed": errors,
        }
        if detect:
            figures["alerts"] = alerts
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="the src folder of the checkout to run")
    parser.add_argument("cases", nargs="*", choices=[[], *CASES, *DETECT_CASES], default=[])
    args = parser.parse_args()
    for case in args.cases or [*CASES, *DETECT_CASES]:
        print(json.dumps(run(case, args.src)), flush=True)


if __name__ == "__main__":
    main()
