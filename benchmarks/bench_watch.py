"""Latency of `mamori watch`: advisory published → verified fix proposed, on a small loopback fleet.

Usage: python benchmarks/bench_watch.py [--copies N] [--spacing SECONDS] [--interval SECONDS] [--workers N]

What it does, all on this machine (no network): serves a loopback world (osv.dev's bucket layout,
CISA KEV, FIRST EPSS, GitHub's pull request API, a webhook receiver: tests/watch/world.py), makes
a fleet of git projects with bare repositories as remotes (per copy: three affected Python
projects, one affected npm project, three unaffected ones), starts the real service
(`mamori watch run`) as a child process, publishes one advisory per affected package every
--spacing seconds (each record's `published` is the instant it appears in the feed), waits for
the proposals, then adds a KEV entry for one of the CVEs and times its escalation notice.

It checks each proposed branch itself: it exists in the bare remote, changes the right package to
the proposed version, and the project's tests pass on it; and that no unaffected project got a
proposal. Last line: `watch: affected=A proposed=P wrong=W p50=Xs p95=Ys kev=Ks`.

This is the small version of issue 17's benchmark: the fleet's test suites do not import their
dependencies (no loopback package index is served), so dependency upgrades are verified by the fix
stage's re-scan and the project's own tests, not by installing the new versions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.watch.world import (  # noqa: E402
    TOKEN,
    World,
    git,
    kev_entry,
    load_advisory,
    make_npm_project,
    make_project,
    now_iso,
    serve,
)

AFFECTED = (
    ("yaml", "pyyaml==5.3\n", "PYSEC-2021-142", "pyyaml", "5.4"),
    ("templates", "jinja2==2.11.2\n", "PYSEC-2021-66", "jinja2", "2.11.3"),
    ("http", "requests==2.19.1\n", "PYSEC-2018-28", "requests", "2.20.0"),
)
UNAFFECTED = (("safe-yaml", "pyyaml==5.4\n"), ("safe-templates", "jinja2==3.1.4\n"))
NPM_ADVISORY = "GHSA-35jh-r3h4-6jhm"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of the seven-project fleet")
    parser.add_argument("--spacing", type=float, default=5.0, help="seconds between two advisories")
    parser.add_argument("--interval", type=float, default=2.0, help="the service's poll interval")
    parser.add_argument("--workers", type=int, default=1, help="the service's --workers")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="mamori-bench-watch-"))
    home = base / "home"
    env = {
        **os.environ,
        "MAMORI_HOME": str(home),
        "MAMORI_TEST_FORGE_TOKEN": TOKEN,
        "PYTHONPATH": str(ROOT / "src"),
    }
    world = World()
    world.publish("PyPI", load_advisory("PYSEC-2018-49"))  # the baseline: affects none of them
    world.publish("npm", load_advisory("GHSA-p6mc-m468-83gw"))
    expected: dict[str, tuple[str, str, str]] = {}  # project → (advisory, package, target)
    bares: dict[str, Path] = {}
    projects: list[str] = []
    with serve(world):
        for copy in range(args.copies):
            for kind, reqs, advisory, package, target in AFFECTED:
                name = f"{kind}-{copy}"
                _work, bare = make_project(base, name, reqs)
                bares[name], expected[name] = bare, (advisory, package, target)
            name = f"web-{copy}"
            bares[name] = make_npm_project(base, name, "4.17.20")
            expected[name] = (NPM_ADVISORY, "lodash", "4.17.21")
            for kind, reqs in UNAFFECTED:
                name = f"{kind}-{copy}"
                _work, bare = make_project(base, name, reqs)
                bares[name] = bare
            name = f"safe-web-{copy}"
            bares[name] = make_npm_project(base, name, "4.17.21")
        for name, bare in bares.items():
            world.repos[f"acme/{name}"] = bare
            projects.append(
                f'[[project]]\nname = "{name}"\ngit = "{bare.as_uri()}"\nbranch = "main"\n'
                f'github = "acme/{name}"\nauto_fix = ["act", "attend", "track*", "track"]\n'
                'asset = { sector = "electric-power", criticality = "high" }\n'
            )
        fleet = base / "watch.toml"
        fleet.write_text(
            f'[feeds]\nosv = "{world.url}/osv"\nkev = "{world.url}/kev.json"\nepss = "{world.url}/epss.csv"\n\n'
            f'[forge]\napi = "{world.url}/github"\ntoken_env = "MAMORI_TEST_FORGE_TOKEN"\n\n'
            f'[notify]\nwebhooks = ["{world.url}/hook"]\n\n[fix]\npython = "{sys.executable}"\n\n'
            + "\n".join(projects)
        )
        print(f"fleet: {len(bares)} projects, {len(expected)} affected; service starting", flush=True)
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mamori",
                "watch",
                "run",
                "--interval",
                str(args.interval),
                "--workers",
                str(args.workers),
                "--config",
                str(fleet),
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        log: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert service.stderr is not None
            for line in service.stderr:
                log.append(line.rstrip())
                if "cycle:" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            if not ready.wait(args.timeout):
                raise SystemExit("the service did not finish its first cycle")
            print("indexed; publishing advisories", flush=True)
            started = time.time()
            for n, advisory in enumerate(sorted({a for a, _p, _t in expected.values()})):
                if n:
                    time.sleep(args.spacing)
                stamp = now_iso()
                eco = "npm" if advisory.startswith("GHSA") else "PyPI"
                world.publish(eco, {**load_advisory(advisory), "published": stamp, "modified": stamp})
            while time.time() - started < args.timeout:
                with world.lock:
                    done = sum(len(v) for v in world.pulls.values())
                if done >= len(expected):
                    break
                time.sleep(0.5)
            kev_at = time.time()
            with world.lock:
                world.kev.append(kev_entry("CVE-2020-14343"))
            kev_seconds = None
            while time.time() - kev_at < 120:
                with world.lock:
                    hit = [
                        h
                        for h in world.hooks
                        if h["body"].get("event") == "escalated" and h["body"].get("kev")
                    ]
                if hit:
                    kev_seconds = hit[0]["body"]["sent"] - kev_at
                    break
                time.sleep(0.2)
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                service.kill()
        status = subprocess.run(
            [sys.executable, "-m", "mamori", "watch", "status", "--format", "json", "--config", str(fleet)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(status.stdout)

    proposed, wrong = 0, 0
    for repo, pulls in world.pulls.items():
        name = repo.split("/", 1)[1]
        if name not in expected:
            wrong += len(pulls)
            continue
        advisory, package, target = expected[name]
        branch = pulls[0]["head"]["ref"]
        check = base / "check" / name
        git("clone", "-q", "--branch", branch, str(bares[name]), str(check), cwd=base)
        manifest = check / ("package.json" if package == "lodash" else "requirements.txt")
        ok = target in manifest.read_text()
        if package != "lodash":
            tests = subprocess.run(
                [sys.executable, "-m", "unittest", "-q"], cwd=check, capture_output=True, check=False
            )
            ok = ok and tests.returncode == 0
        if ok and len(pulls) == 1:
            proposed += 1
        else:
            print(f"  {name}: branch {branch} does not hold a good fix (or {len(pulls)} requests)")
    latencies = sorted(
        f["published_to_proposed"] for f in data["latency"]["fixes"] if "published_to_proposed" in f
    )
    for f in data["latency"]["fixes"]:
        print(f"  {f['project']}: {f['advisory']} published→proposed {f.get('published_to_proposed')}s")
    missing = sorted(set(expected) - {r.split("/", 1)[1] for r in world.pulls})
    if missing:
        print("  no proposal for: " + ", ".join(missing))
        for line in log[-30:]:
            print("   | " + line)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else float("nan")
    kev = f"{kev_seconds:.1f}" if kev_seconds is not None else "none"
    shutil.rmtree(base, ignore_errors=True)
    print(
        f"watch: affected={len(expected)} proposed={proposed} wrong={wrong} p50={p50:.1f}s p95={p95:.1f}s kev={kev}s"
    )
    return 0 if proposed == len(expected) and wrong == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
