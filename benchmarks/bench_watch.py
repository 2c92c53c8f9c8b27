"""Latency of `mamori watch` at issue 17's scale: advisory published → verified fix proposed.

Usage: python benchmarks/bench_watch.py [--projects N] [--affected A] [--npm M] [--advisories K]
                                        [--over SECONDS] [--interval S] [--workers W] [--png FILE]

Everything runs on this machine; nothing reaches the network:

* a loopback world (tests/watch/world.py): osv.dev's bucket layout, CISA KEV, FIRST EPSS,
  GitHub's pull request API, a webhook receiver, a PEP 503 package index serving the fleet's
  Python packages as generated wheels (the service's pip is pointed at it: PIP_INDEX_URL) and
  an npm registry serving its npm packages as generated tarballs (npm_config_registry);
* a fleet of --projects generated git projects (default 50) with bare repositories as remotes:
  Python projects (a package, requirements.txt with three pins, a unittest suite that calls
  every dependency and takes at least 1 s) and npm projects (package.json, package-lock.json v3,
  an ``npm test`` script that requires every dependency and takes at least 1 s). --affected of
  them (default 20, --npm of those npm, default 5) pin a vulnerable version of a package an
  advisory will name; the others pin the fixed version of the same packages (the index finds
  them, the advisory does not affect them);
* the real service (`mamori watch run`) as a child process; once it has indexed the fleet,
  --advisories new advisories (default 20, one per vulnerable package) are published evenly over
  --over seconds (default 60), each record's ``published`` being the instant it appears.

Checked by the benchmark itself, not by the service's word: each proposed branch exists in the
bare remote, changes the right package to the fixed version, and the project's tests pass on it
(run here: Python with the fixed wheel installed in a fresh virtualenv from the loopback index;
npm with ``npm ci`` of the branch's lockfile from the loopback registry, the installed version
checked, then ``npm test``); no unaffected project got a proposal. An affected project without a
proposal is listed with the service's reason (its ``not-fixed`` notice).

Then a KEV addition for a CVE of one proposed advisory: seconds from the catalogue change to the
``escalated`` notice; and a followed log: `mamori detect --follow --project P` on a scanned
project with a SQL injection finding, a SQL injection request appended to its access log,
seconds from the write to the alert on stdout (and whether it is escalated).

Queue depth and CPU are sampled every 0.5 s (CSV beside the PNG; the PNG when matplotlib is
importable). Last line: `watch: affected=A proposed=P wrong=W p50=Xs p95=Ys kev=Ks`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.watch.world import (  # noqa: E402
    TOKEN,
    World,
    git,
    kev_entry,
    now_iso,
    serve,
)

VULNERABLE, FIXED = "1.0.0", "1.0.1"
COMMON_PY = ("benchcommon-log", "benchcommon-cfg")
COMMON_NPM = ("bench-common-fmt",)
SLEEP = 1.0
"""Seconds each project's test suite takes besides its calls."""


def _module(package: str) -> str:
    return package.replace("-", "_")


def py_source(package: str, version: str) -> str:
    """A dependency's module: ``ping(x)`` returns its argument and the version it runs."""
    return f"__version__ = {version!r}\n\n\ndef ping(x):\n    return (x, __version__)\n"


def js_source(version: str) -> str:
    """The fleet's npm packages: ``ping`` answers its input and the version it runs."""
    return f"module.exports = {{ ping: (x) => [x, {version!r}] }};\n"


def advisory(n: int, ecosystem: str, package: str) -> dict[str, Any]:
    """An OSV record: ``package`` below FIXED is affected."""
    stamp = now_iso()
    return {
        "schema_version": "1.6.0",
        "id": f"BENCH-2026-{n:04d}",
        "aliases": [f"CVE-2026-9{n:04d}"],
        "summary": f"{package}: remote code execution through crafted input",
        "details": f"{package} before {FIXED} evaluates untrusted input (benchmark advisory {n}).",
        "published": stamp,
        "modified": stamp,
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": FIXED}]}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": f"https://example.org/advisories/{n}"}],
    }


def make_python_project(base: Path, name: str, pins: dict[str, str]) -> Path:
    """A Python project of realistic shape pushed to a bare repository; the bare repository."""
    work, bare = base / "work" / name, base / "remotes" / f"{name}.git"
    pkg = work / name.replace("-", "_")
    (work / "tests").mkdir(parents=True)
    pkg.mkdir()
    (work / "requirements.txt").write_text("".join(f"{p}=={v}\n" for p, v in pins.items()))
    mods = [_module(p) for p in pins]
    (pkg / "__init__.py").write_text('"""A service of the fleet."""\n')
    (pkg / "core.py").write_text(
        "".join(f"import {m}\n" for m in mods)
        + "\n\ndef handle(text):\n"
        + f"    return [{', '.join(f'{m}.ping(text)[0]' for m in mods)}]\n\n\n"
        + "def versions():\n"
        + f"    return [{', '.join(f'{m}.ping(None)[1]' for m in mods)}]\n"
    )
    (work / "tests" / "__init__.py").write_text("")
    (work / "tests" / "test_core.py").write_text(
        "import time\nimport unittest\n\n"
        + f"from {pkg.name}.core import handle, versions\n\n\n"
        + "class CoreTest(unittest.TestCase):\n"
        + "    def test_every_dependency_answers(self):\n"
        + f"        self.assertEqual(handle('x'), {['x'] * len(mods)!r})\n"
        + f"        self.assertEqual(len(versions()), {len(mods)})\n\n"
        + "    def test_takes_a_while(self):\n"
        + f"        time.sleep({SLEEP!r})\n"
    )
    (work / "README.md").write_text(f"# {name}\n")
    return _push(base, work, bare)


def make_npm_project(base: Path, name: str, pins: dict[str, str], registry: str) -> Path:
    """An npm project (package.json, package-lock.json v3, npm test) pushed to a bare repository."""
    work, bare = base / "work" / name, base / "remotes" / f"{name}.git"
    (work / "test").mkdir(parents=True)
    (work / "package.json").write_text(
        json.dumps(
            {
                "name": name,
                "version": "1.0.0",
                "private": True,
                "main": "index.js",
                "scripts": {"test": "node test/test.js"},
                "dependencies": dict(pins),
            },
            indent=2,
        )
        + "\n"
    )
    lock = {
        "name": name,
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": name, "version": "1.0.0", "dependencies": dict(pins)},
            **{
                f"node_modules/{p}": {"version": v, "resolved": f"{registry}{p}/-/{p}-{v}.tgz"}
                for p, v in pins.items()
            },
        },
    }
    (work / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    (work / "index.js").write_text(
        "".join(f"const d{i} = require({p!r});\n" for i, p in enumerate(pins))
        + "module.exports = (x) => ["
        + ", ".join(f"d{i}.ping(x)[0]" for i in range(len(pins)))
        + "];\n"
    )
    (work / "test" / "test.js").write_text(
        "const assert = require('assert');\nconst handle = require('..');\n"
        f"assert.deepStrictEqual(handle('x'), {json.dumps(['x'] * len(pins))});\n"
        f"setTimeout(() => console.log('ok'), {int(SLEEP * 1000)});\n"
    )
    return _push(base, work, bare)


def _push(base: Path, work: Path, bare: Path) -> Path:
    git("init", "-q", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "initial", cwd=work)
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", str(bare), cwd=base)
    git("push", "-q", str(bare), "main", cwd=work)
    return bare


class Sampler(threading.Thread):
    """Queue depth (jobs queued or running in watch.sqlite) and machine CPU % every 0.5 s."""

    def __init__(self, state: Path) -> None:
        super().__init__(daemon=True)
        self.state = state
        self.rows: list[tuple[float, int, float]] = []
        self.halt = threading.Event()

    @staticmethod
    def _cpu() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    def run(self) -> None:
        start = time.time()
        last = self._cpu()
        while not self.halt.wait(0.5):
            depth = -1
            if self.state.exists():
                try:
                    conn = sqlite3.connect(f"file:{self.state}?mode=ro", uri=True, timeout=1)
                    try:
                        depth = conn.execute(
                            "SELECT COUNT(*) FROM jobs WHERE state IN ('queued','running')"
                        ).fetchone()[0]
                    finally:
                        conn.close()
                except sqlite3.Error:
                    depth = -1
            now = self._cpu()
            total, idle = now[0] - last[0], now[1] - last[1]
            last = now
            cpu = 100.0 * (1 - idle / total) if total else 0.0
            self.rows.append((time.time() - start, depth, cpu))


def plot(rows: list[tuple[float, int, float]], png: Path) -> str:
    """Write the samples as CSV beside ``png`` and, when matplotlib is importable, the PNG."""
    csv = png.with_suffix(".csv")
    csv.write_text(
        "seconds,queue_depth,cpu_percent\n" + "".join(f"{t:.1f},{d},{c:.1f}\n" for t, d, c in rows)
    )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"samples: {csv} (no PNG: matplotlib is not installed)"
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([r[0] for r in rows], [r[1] for r in rows], label="queue depth (jobs)", color="tab:blue")
    ax.set_xlabel("seconds")
    ax.set_ylabel("jobs queued or running")
    ax2 = ax.twinx()
    ax2.plot([r[0] for r in rows], [r[2] for r in rows], label="CPU %", color="tab:red", alpha=0.6)
    ax2.set_ylabel("CPU %")
    fig.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(png)
    return f"plot: {png} (samples: {csv})"


def check_branch(
    base: Path, name: str, bare: Path, branch: str, package: str, ecosystem: str, world_url: str
) -> str:
    """'' when the branch exists in the remote, upgrades ``package`` to FIXED, and its tests pass; else why not."""
    heads = subprocess.run(
        ["git", "ls-remote", "--heads", str(bare), branch], capture_output=True, text=True, check=False
    ).stdout
    if not heads.strip():
        return f"branch {branch} is not in the remote"
    check = base / "check" / name
    git("clone", "-q", "--branch", branch, str(bare), str(check), cwd=base)
    if ecosystem == "npm":
        manifest = json.loads((check / "package.json").read_text())
        if manifest["dependencies"].get(package) not in (FIXED, f"^{FIXED}", f"~{FIXED}"):
            return f"package.json has {package} {manifest['dependencies'].get(package)}"
        npm_env = {
            **os.environ,
            "npm_config_registry": f"{world_url}/npm/",
            "npm_config_update_notifier": "false",
        }
        install = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=check,
            env=npm_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode:
            return "npm ci of the branch's lockfile failed: " + install.stderr[-300:]
        installed = json.loads((check / "node_modules" / package / "package.json").read_text())["version"]
        if installed != FIXED:
            return f"the branch's lockfile installs {package} {installed}"
        tests = subprocess.run(
            ["npm", "test"], cwd=check, env=npm_env, capture_output=True, text=True, check=False
        )
        return "" if tests.returncode == 0 else "the branch's npm tests fail: " + tests.stderr[-300:]
    pins = (check / "requirements.txt").read_text()
    if f"{package}=={FIXED}" not in pins:
        return f"requirements.txt does not pin {package}=={FIXED}: {pins!r}"
    env = base / "check-venv" / name
    venv.create(env, with_pip=False, system_site_packages=False)
    py = env / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-cache-dir",
            "--index-url",
            f"{world_url}/simple/",
            "-r",
            str(check / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode:
        return "pip install of the branch's requirements failed: " + install.stderr[-300:]
    tests = subprocess.run(
        [str(py), "-m", "unittest", "discover", "-q", "-s", "tests", "-t", "."],
        cwd=check,
        capture_output=True,
        text=True,
        check=False,
    )
    if tests.returncode:
        return "the branch's tests fail: " + tests.stderr[-300:]
    versions = subprocess.run(
        [str(py), "-c", f"import {_module(package)} as m; print(m.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return "" if versions == FIXED else f"the branch's environment runs {package} {versions}"


SQLI_APP = '''"""A small web handler."""
import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/item")
def item():
    db = sqlite3.connect("app.db")
    return str(db.execute("SELECT name FROM items WHERE id = '" + request.args["id"] + "'").fetchall())
'''
ATTACK = (
    '203.0.113.9 - - [{when}] "GET /item?id=1%27+union+select+password+from+users-- HTTP/1.1" '
    '200 9 "-" "sqlmap/1.7"\n'
)
BENIGN = '198.51.100.7 - - [{when}] "GET /index.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n'


def follow_latency(base: Path, env: dict[str, str]) -> tuple[float | None, bool, str]:
    """Seconds from an attack line's write to `detect --follow`'s alert; (seconds, escalated, note)."""
    project = base / "webapp"
    project.mkdir()
    (project / "app.py").write_text(SQLI_APP)
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    scan = subprocess.run(
        [sys.executable, "-m", "mamori", "scan", str(project), "--format", "json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        findings = json.loads(scan.stdout).get("findings", [])
    except ValueError:
        findings = []
    sqli = [f for f in findings if "CWE-89" in (f.get("cwe") or [])]
    log = base / "access.log"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    log.write_text(BENIGN.format(when=stamp) * 50)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mamori",
            "detect",
            str(log),
            "--follow",
            "--format",
            "jsonl",
            "--project",
            str(project),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    got: list[tuple[float, dict[str, Any]]] = []
    arrived = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                got.append((time.time(), json.loads(line)))
            except ValueError:
                continue
            arrived.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        time.sleep(4.0)  # started and at the end of the file (the benign lines raise nothing)
        if got:
            return None, False, f"alerts before the attack was written: {len(got)}"
        written = time.time()
        with log.open("a") as fh:
            fh.write(ATTACK.format(when=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())))
        if not arrived.wait(30):
            return None, False, "no alert within 30 s"
        at, alert = got[0]
        note = f"{len(sqli)} open SQL injection finding(s) in the scanned project"
        return at - written, bool(alert.get("escalated")), note
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50, help="projects in the fleet")
    parser.add_argument("--affected", type=int, default=20, help="of them affected by an advisory")
    parser.add_argument("--npm", type=int, default=5, help="of the affected, npm projects")
    parser.add_argument("--advisories", type=int, default=20, help="advisories published")
    parser.add_argument("--over", type=float, default=60.0, help="seconds the advisories are published over")
    parser.add_argument("--interval", type=float, default=2.0, help="the service's poll interval")
    parser.add_argument("--workers", type=int, default=2, help="the service's --workers")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the proposals")
    parser.add_argument("--png", type=Path, default=Path("bench_watch.png"), help="where the plot goes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    if not (0 < args.npm <= args.affected <= args.projects and args.advisories >= 1):
        raise SystemExit("need 0 < --npm <= --affected <= --projects")
    began = time.time()

    base = Path(tempfile.mkdtemp(prefix="mamori-bench-watch-"))
    home = base / "home"
    world = World()
    # the packages an advisory will name: one per advisory, npm ones first up to --npm
    n_npm_pkgs = min(args.npm, args.advisories)
    targets = [("npm", f"bench-npm-{i:02d}") for i in range(n_npm_pkgs)] + [
        ("PyPI", f"benchlib-{i:02d}") for i in range(args.advisories - n_npm_pkgs)
    ]
    py_targets = [p for e, p in targets if e == "PyPI"] or ["benchlib-00"]
    npm_targets = [p for e, p in targets if e == "npm"]
    for package in [*py_targets, *COMMON_PY]:
        for version in (VULNERABLE, FIXED):
            world.add_wheel(package, version, _module(package), py_source(package, version))
    for package in [*npm_targets, *COMMON_NPM]:
        for version in (VULNERABLE, FIXED):
            world.add_npm(package, version, {"index.js": js_source(version)})
    # the fleet: (name, ecosystem, target package, vulnerable?)
    fleet_rows: list[tuple[str, str, str, bool]] = []
    for i in range(args.affected):
        if i < args.npm:
            fleet_rows.append((f"web-{i:02d}", "npm", npm_targets[i % len(npm_targets)], True))
        else:
            fleet_rows.append((f"svc-{i:02d}", "PyPI", py_targets[(i - args.npm) % len(py_targets)], True))
    for i in range(args.projects - args.affected):
        if npm_targets and i % 5 == 0:
            fleet_rows.append((f"safe-web-{i:02d}", "npm", npm_targets[i % len(npm_targets)], False))
        else:
            fleet_rows.append((f"safe-svc-{i:02d}", "PyPI", py_targets[i % len(py_targets)], False))

    with serve(world):
        env = {
            **os.environ,
            "MAMORI_HOME": str(home),
            "MAMORI_TEST_FORGE_TOKEN": TOKEN,
            "PYTHONPATH": str(ROOT / "src"),
            "PIP_INDEX_URL": f"{world.url}/simple/",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # npm (installing node_modules for the tests) asks the loopback world's registry
            "npm_config_registry": f"{world.url}/npm/",
        }
        bares: dict[str, Path] = {}
        expected: dict[str, tuple[str, str]] = {}  # affected project → (ecosystem, package)
        entries = []
        for name, eco, package, vulnerable in fleet_rows:
            version = VULNERABLE if vulnerable else FIXED
            if eco == "npm":
                pins = {package: version, **dict.fromkeys(COMMON_NPM, VULNERABLE)}
                bares[name] = make_npm_project(base, name, pins, f"{world.url}/npm/")
            else:
                pins = {package: version, **dict.fromkeys(COMMON_PY, VULNERABLE)}
                bares[name] = make_python_project(base, name, pins)
            if vulnerable:
                expected[name] = (eco, package)
            world.repos[f"acme/{name}"] = bares[name]
            entries.append(
                f'[[project]]\nname = "{name}"\ngit = "{bares[name].as_uri()}"\nbranch = "main"\n'
                f'github = "acme/{name}"\nauto_fix = ["act", "attend", "track*", "track"]\n'
                'asset = { sector = "electric-power", criticality = "high" }\n'
            )
        fleet = base / "watch.toml"
        fleet.write_text(
            f'[feeds]\nosv = "{world.url}/osv"\nkev = "{world.url}/kev.json"\nepss = "{world.url}/epss.csv"\n\n'
            f'[forge]\napi = "{world.url}/github"\ntoken_env = "MAMORI_TEST_FORGE_TOKEN"\n\n'
            f'[notify]\nwebhooks = ["{world.url}/hook"]\n\n[fix]\npython = "{sys.executable}"\n\n'
            + "\n".join(entries)
        )
        # a baseline record in each ecosystem (the first poll loads all.zip once): affects none
        world.publish("PyPI", {**advisory(9999, "PyPI", "benchcommon-unused"), "id": "BENCH-2026-BASE-PY"})
        world.publish("npm", {**advisory(9998, "npm", "bench-common-unused"), "id": "BENCH-2026-BASE-NPM"})
        n_npm = sum(1 for e, _p in expected.values() if e == "npm")
        print(
            f"fleet: {len(bares)} projects ({sum(1 for r in fleet_rows if r[1] == 'npm')} npm), "
            f"{len(expected)} affected ({n_npm} npm); {len(targets)} advisories over {args.over:.0f}s; "
            f"service with --workers {args.workers}",
            flush=True,
        )
        sampler = Sampler(home / "watch.sqlite")
        sampler.start()
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
                log.append(f"{time.time() - began:7.1f} {line.rstrip()}")
                if "cycle:" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        kev_seconds: float | None = None
        published_at: dict[str, float] = {}
        try:
            if not ready.wait(args.timeout):
                raise SystemExit("the service did not finish its first cycle")
            print(f"indexed in {time.time() - began:.1f}s; publishing advisories", flush=True)
            started = time.time()
            gap = args.over / max(1, len(targets) - 1) if len(targets) > 1 else 0.0
            for n, (eco, package) in enumerate(targets):
                wait = started + n * gap - time.time()
                if wait > 0:
                    time.sleep(wait)
                record = advisory(n, eco, package)
                published_at[record["id"]] = time.time()
                world.publish(eco, record)
            print(f"published {len(targets)} advisories in {time.time() - started:.1f}s", flush=True)

            def settled() -> set[str]:
                """Affected projects with a merge request or a not-fixed notice."""
                with world.lock:
                    done = {r.split("/", 1)[1] for r in world.pulls}
                    done |= {
                        h["body"].get("project", "")
                        for h in world.hooks
                        if h["body"].get("event") == "not-fixed"
                    }
                return done & set(expected)

            while time.time() - started < args.timeout and len(settled()) < len(expected):
                time.sleep(0.5)
            print(f"settled after {time.time() - started:.1f}s", flush=True)
            # a KEV addition naming one proposed advisory's CVE
            with world.lock:
                proposed_names = sorted(
                    r.split("/", 1)[1] for r in world.pulls if r.split("/", 1)[1] in expected
                )
            hit_pkg = expected[proposed_names[0]][1] if proposed_names else targets[-1][1]
            n_hit = next(n for n, (_e, p) in enumerate(targets) if p == hit_pkg)
            cve = f"CVE-2026-9{n_hit:04d}"
            kev_at = time.time()
            with world.lock:
                world.kev.append(kev_entry(cve))
            while time.time() - kev_at < 120:
                with world.lock:
                    hit = [
                        h
                        for h in world.hooks
                        if h["body"].get("event") == "escalated" and h["body"].get("kev") == cve
                    ]
                if hit:
                    kev_seconds = min(h["body"]["sent"] for h in hit) - kev_at
                    break
                time.sleep(0.1)
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(120)
            except subprocess.TimeoutExpired:
                service.kill()
            sampler.halt.set()
            sampler.join(5)
        status = subprocess.run(
            [sys.executable, "-m", "mamori", "watch", "status", "--format", "json", "--config", str(fleet)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(status.stdout)

        # ------------------------------------------------------------ the checks
        proposed, wrong, unverified_npm = 0, 0, 0
        problems: list[str] = []
        for repo, pulls in sorted(world.pulls.items()):
            name = repo.split("/", 1)[1]
            if name not in expected:
                wrong += len(pulls)
                problems.append(f"{name}: {len(pulls)} proposal(s) for an unaffected project")
                continue
            eco, package = expected[name]
            why = check_branch(base, name, bares[name], pulls[0]["head"]["ref"], package, eco, world.url)
            if why or len(pulls) != 1:
                problems.append(f"{name}: {why or f'{len(pulls)} merge requests'}")
            else:
                proposed += 1
        reasons: dict[str, str] = {}
        for h in world.hooks:
            b = h["body"]
            if b.get("event") == "not-fixed" and b.get("project") in expected:
                reasons.setdefault(b["project"], b.get("why", ""))
        missing = sorted(set(expected) - {r.split("/", 1)[1] for r in world.pulls})
        for name in missing:
            if expected[name][0] == "npm" and name in reasons:
                unverified_npm += 1
            problems.append(f"{name}: no proposal; the service says: {reasons.get(name, '(nothing)')}")
    latencies = sorted(
        f["published_to_proposed"]
        for f in data["latency"]["fixes"]
        if "published_to_proposed" in f and f["project"] in expected
    )
    seen_lat = sorted(
        f["seen_to_proposed"]
        for f in data["latency"]["fixes"]
        if "seen_to_proposed" in f and f["project"] in expected
    )
    for p in problems:
        print("  " + p)
    if problems:
        for line in log[-25:]:
            print("   | " + line)
    failed = data.get("jobs", {}).get("failed") if isinstance(data.get("jobs"), dict) else None
    print(f"jobs: {data.get('jobs')}" + (f"; failed: {data.get('failed')}" if failed else ""))
    print(plot(sampler.rows, args.png.resolve()))
    depth = max((d for _t, d, _c in sampler.rows), default=0)
    cpu = statistics.mean(c for _t, _d, c in sampler.rows) if sampler.rows else 0.0
    print(f"queue depth max {depth}; CPU mean {cpu:.0f}% over {len(sampler.rows)} samples")
    if seen_lat:
        print(f"seen→proposed: p50 {statistics.median(seen_lat):.1f}s, max {seen_lat[-1]:.1f}s")
    print(
        f"verified and proposed: {proposed} of {len(expected)} affected "
        f"({sum(1 for e, _ in expected.values() if e == 'PyPI')} Python, {n_npm} npm); "
        f"npm not proposed because unverified: {unverified_npm}"
    )
    home_env = {**env}
    follow_seconds, escalated, note = follow_latency(base, home_env)
    print(
        "follow: attack line → alert "
        + (f"{follow_seconds:.2f}s" if follow_seconds is not None else "none")
        + f", escalated={'yes' if escalated else 'no'} ({note})"
    )
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"kept: {base}")
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else float("nan")
    kev = f"{kev_seconds:.1f}" if kev_seconds is not None else "none"
    print(f"total: {time.time() - began:.0f}s")
    print(
        f"watch: affected={len(expected)} proposed={proposed} wrong={wrong} p50={p50:.1f}s p95={p95:.1f}s kev={kev}s"
    )
    return 0 if proposed == len(expected) and wrong == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
