"""Load on the hub, loopback only: 100 clients polling and 10 posting for a bounded time.

Starts ``mamori serve`` in a subprocess on a free port, once per database of ``--databases``
(default: SQLite, then PostgreSQL on a throw-away cluster this script creates with Debian's
``postgresql`` binaries and stops; ``--database URL`` uses an existing server instead), with
the server's default workers (1 on SQLite, 2 on PostgreSQL), registers 110 organisations of
the finance sector, and runs:

* 10 writers posting bundles of ``--bundle`` indicators in a loop, each bundle with a TLP drawn
  in turn from CLEAR, GREEN, AMBER (to one named poller), AMBER+STRICT and RED (to one poller);
* 100 pollers each asking ``GET objects/?added_after=<last seen>`` in a loop (following ``next``).

Reports objects/s ingested, p50/p99 latency of POSTs and GETs, then checks that nothing was lost
and TLP held: every poller's view (what it polled) equals exactly the posted objects it is
entitled to, by the contract's rule; a final full read (with pagination) agrees; and every
AMBER, AMBER+STRICT and RED object in a sample is asked for by id by an organisation not
entitled to it, which must get 404. The script exits 1 if anything was lost or leaked.

``--medallion PYTHON`` also runs the OASIS reference server (medallion, installed in a separate
virtualenv, e.g. ``../ext/medvenv/bin/python``, outside the repository) and shows what it does with an AMBER+STRICT
object read by another organisation.

    .venv/bin/python benchmarks/bench_share_load.py --duration 60 [--databases sqlite,postgresql]
        [--medallion PY]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

TAXII = "application/taxii+json;version=2.1"
LEVELS = ("clear", "green", "amber", "amber+strict", "red")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by process ``root`` and its descendants (Linux /proc).

    The figure that does not depend on what else the machine runs: latency on a shared machine
    does, the server's CPU per request much less."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree = {root}
    grew = True
    while grew:
        more = {p for p, pp in parent.items() if pp in tree} - tree
        grew = bool(more)
        tree |= more
    return sum(used.get(p, 0.0) for p in tree)


def _indicator(level: str, recipients: list[str], n: int) -> dict[str, object]:
    from mamori.share.tlp import parse_tlp

    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    obj: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"load {n}",
        "pattern": f"[ipv4-addr:value = '45.{n % 250}.{(n // 250) % 250}.{n % 199}']",
        "pattern_type": "stix",
        "valid_from": now,
        "object_marking_refs": [parse_tlp(level).marking_id],
    }
    if recipients:
        obj["x_mamori_recipients"] = recipients
    return obj


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


async def _run_load(
    base: str, tokens: dict[str, str], col: str, duration: float, bundle: int
) -> dict[str, object]:
    """The load itself. Every simulated organisation has its own HTTP client and connection, as
    real ones would (one shared pool of 110 connections made the load generator, not the
    server, the bottleneck: httpx scans the whole pool for each request)."""
    writers = [n for n in tokens if n.startswith("writer")]
    assert len(writers) == 10
    pollers = [n for n in tokens if n.startswith("poller")]
    posted: dict[str, tuple[str, str, tuple[str, ...]]] = {}  # id -> (producer, level, recipients)
    seen: dict[str, set[str]] = {p: set() for p in pollers}
    post_lat: list[float] = []
    get_lat: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + duration
    writing = {"left": 10}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    def client_of(name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base,
            timeout=120,
            limits=limits,
            headers={"Accept": TAXII, "Authorization": f"Bearer {tokens[name]}"},
        )

    async def writer(name: str, k: int) -> None:
        i = 0
        async with client_of(name) as client:
            while time.monotonic() < stop:
                level = LEVELS[(i + k) % len(LEVELS)]
                to = [pollers[(i * 7 + k) % len(pollers)]] if level in ("amber", "red") else []
                objs = [_indicator(level, to, i * bundle + j) for j in range(bundle)]
                body = json.dumps({"objects": objs})
                for _attempt in range(3):  # a POST is idempotent: the same versions again change nothing
                    t0 = time.perf_counter()
                    try:
                        r = await client.post(f"{col}objects/", content=body, headers={"Content-Type": TAXII})
                    except httpx.TransportError as exc:
                        errors.append(f"POST transport {exc!r} (retried)")
                        continue
                    post_lat.append(time.perf_counter() - t0)
                    if r.status_code != 202 or r.json().get("success_count") != len(objs):
                        errors.append(f"POST {r.status_code} {r.text[:200]}")
                    else:
                        for o in objs:
                            posted[str(o["id"])] = (name, level, tuple(to))
                    break
                i += 1
        writing["left"] -= 1

    async def poller(name: str) -> None:
        after = None
        async with client_of(name) as client:
            while True:
                done = writing["left"] == 0  # a last poll once every writer has finished
                params: dict[str, str] = {"limit": "1000"}
                if after:
                    params["added_after"] = after
                while True:
                    t0 = time.perf_counter()
                    try:
                        r = await client.get(f"{col}objects/", params=params)
                    except httpx.TransportError as exc:
                        errors.append(f"GET transport {exc!r}")
                        done = False  # poll again
                        break
                    get_lat.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        errors.append(f"GET {r.status_code} {r.text[:200]}")
                        break
                    body = r.json()
                    seen[name].update(o["id"] for o in body.get("objects", []))
                    after = r.headers.get("X-TAXII-Date-Added-Last", after)
                    if not body.get("more"):
                        break
                    params = {**params, "next": body["next"]}
                if done:
                    return
                await asyncio.sleep(0.05)

    t_start = time.monotonic()
    await asyncio.gather(*(writer(w, k) for k, w in enumerate(writers)), *(poller(p) for p in pollers))
    elapsed = time.monotonic() - t_start
    return {
        "posted": posted,
        "seen": seen,
        "post_lat": post_lat,
        "get_lat": get_lat,
        "errors": errors,
        "elapsed": elapsed,
    }


def _entitled(reader: str, producer: str, level: str, recipients: tuple[str, ...]) -> bool:
    if level in ("clear", "green") or reader == producer:
        return True
    if level == "amber+strict":
        return False
    return reader in recipients


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port; yields its SQLAlchemy URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL binaries missing: apt-get install -y postgresql")
    bindir = Path(found[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="mamori-bench-pg-"))
    as_user: str | None = None  # run as this user (postgres refuses root)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        base.chmod(0o700)
        as_user = "postgres"
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
        user=as_user,
        cwd=base,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(base / "data"), "-p", str(port),
         "-h", "127.0.0.1", "-k", str(base), "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=as_user,  # directly, so that the SIGINT below reaches postgres
        cwd=base,
    )  # fmt: skip
    try:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def bench(duration: float, database: str | None, bundle: int) -> bool:
    """The load run against ``mamori serve``; prints figures and the loss/TLP check; True if exact."""
    home = tempfile.mkdtemp(prefix="mamori-bench-")
    env = {**os.environ, "MAMORI_HOME": home}
    db = database or f"sqlite:///{home}/hub.sqlite"
    py = sys.executable
    tokens: dict[str, str] = {}
    from mamori.share._hub import Hub

    hub = Hub.open(db)
    for i in range(10):
        tokens[f"writer{i:02d}"] = hub.add_org(f"writer{i:02d}", "finance", "writer")
    for i in range(100):
        tokens[f"poller{i:03d}"] = hub.add_org(f"poller{i:03d}", "finance", "reader")
    hub.close()
    port = _free_port()
    proc = subprocess.Popen(
        [
            py,
            "-c",
            "import sys; from mamori.share.command import serve_command; serve_command(host='127.0.0.1', port=int(sys.argv[1]), database=sys.argv[2])",
            str(port),
            db,
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/", proc)
        from mamori.share.sectors import collection_id

        col = f"/taxii2/hub/collections/{collection_id('finance')}/"
        cpu0, client0 = _cpu_seconds(proc.pid), time.process_time()
        res = asyncio.run(_run_load(base, tokens, col, duration, bundle))
        server_cpu, client_cpu = _cpu_seconds(proc.pid) - cpu0, time.process_time() - client0
        posted: dict[str, tuple[str, str, tuple[str, ...]]] = res["posted"]  # type: ignore[assignment]
        seen: dict[str, set[str]] = res["seen"]  # type: ignore[assignment]
        elapsed = float(res["elapsed"])  # type: ignore[arg-type]
        post_lat: list[float] = res["post_lat"]  # type: ignore[assignment]
        get_lat: list[float] = res["get_lat"]  # type: ignore[assignment]
        print(
            f"database: {db.split('://')[0]}; {duration:.0f} s; 10 writers x {bundle}-object bundles; 100 pollers; "
            f"server workers: {2 if db.startswith('postgresql') else 1}"
        )
        print(f"ingested: {len(posted)} objects in {elapsed:.1f} s = {len(posted) / elapsed:.0f} objects/s")
        print(
            f"POST: {len(post_lat)} requests, p50 {_pct(post_lat, 50):.0f} ms, p99 {_pct(post_lat, 99):.0f} ms"
        )
        print(f"GET : {len(get_lat)} requests, p50 {_pct(get_lat, 50):.0f} ms, p99 {_pct(get_lat, 99):.0f} ms "
              f"({len(get_lat) / elapsed:.0f} req/s)")  # fmt: skip
        requests = len(post_lat) + len(get_lat)
        print(
            f"CPU: server {server_cpu:.1f} s = {server_cpu / max(1, requests) * 1000:.1f} ms per request; "
            f"load generator {client_cpu:.1f} s; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        lost = leaked = 0
        for reader, got in seen.items():
            want = {i for i, (p, lvl, rc) in posted.items() if _entitled(reader, p, lvl, rc)}
            lost += len(want - got)
            leaked += len(got - want)
        # final full read of two pollers and one writer, with pagination
        final_ok = True
        for reader in ("poller000", "poller050", "writer00"):
            ids: set[str] = set()
            params: dict[str, str] = {"limit": "1000"}
            while True:
                r = httpx.get(
                    base + col + "objects/",
                    params=params,
                    headers={"Accept": TAXII, "Authorization": f"Bearer {tokens[reader]}"},
                    timeout=60,
                )
                body = r.json()
                ids.update(o["id"] for o in body.get("objects", []))
                if not body.get("more"):
                    break
                params["next"] = body["next"]
            want = {i for i, (p, lvl, rc) in posted.items() if _entitled(reader, p, lvl, rc)}
            final_ok &= ids == want
        # the restricted objects asked for by id by an organisation not entitled to them
        restricted = [(i, v) for i, v in posted.items() if v[1] in ("amber", "amber+strict", "red")][:60]
        by_id_leaks = 0
        for k, (ident, (producer, lvl, rc)) in enumerate(restricted):
            other = next(
                p for j in range(100) if not _entitled(p := f"poller{(k + j) % 100:03d}", producer, lvl, rc)
            )
            r = httpx.get(
                f"{base}{col}objects/{ident}/",
                headers={"Accept": TAXII, "Authorization": f"Bearer {tokens[other]}"},
                timeout=60,
            )
            by_id_leaks += r.status_code != 404
        print(
            f"errors: {len(res['errors'])}; lost (entitled, never polled): {lost}; leaked (polled, not entitled): {leaked}; final full reads exact: {final_ok}"
        )  # type: ignore[arg-type]
        print(
            f"by id, {len(restricted)} AMBER/AMBER+STRICT/RED objects read by a wrong organisation: {by_id_leaks} not 404"
        )
        if res["errors"]:
            print("first errors:", res["errors"][:3])  # type: ignore[index]
        print(f"GET mean {statistics.mean(get_lat) * 1000:.0f} ms")
        return not res["errors"] and lost == 0 and leaked == 0 and final_ok and by_id_leaks == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def medallion_check(python: str) -> None:
    """Run medallion (the OASIS reference TAXII server) and read an AMBER+STRICT object as another organisation."""
    tmp = Path(tempfile.mkdtemp(prefix="medallion-"))
    port = _free_port()
    cid = str(uuid.uuid4())
    data = {
        "/discovery": {
            "title": "medallion",
            "default": f"http://127.0.0.1:{port}/api1/",
            "api_roots": [f"http://127.0.0.1:{port}/api1/"],
        },
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 9765625},
            "status": [],
            "collections": [
                {
                    "id": cid,
                    "title": "finance",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (tmp / "data.json").write_text(json.dumps(data))
    (tmp / "config.json").write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(tmp / "data.json"),
                },
                "users": {"producer-bank": "secret1", "other-bank": "secret2"},
                "taxii": {"max_page_size": 100},
            }
        )
    )
    medallion = str(Path(python).parent / "medallion")
    proc = subprocess.Popen(
        [medallion, "--port", str(port), str(tmp / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/taxii2/", proc)
        obj = _indicator("amber+strict", [], 1)
        url = f"http://127.0.0.1:{port}/api1/collections/{cid}/objects/"
        r = httpx.post(
            url,
            content=json.dumps({"objects": [obj]}),
            headers={"Accept": TAXII, "Content-Type": TAXII},
            auth=("producer-bank", "secret1"),
        )
        posted = r.status_code == 202
        r = httpx.get(url, headers={"Accept": TAXII}, auth=("other-bank", "secret2"))
        got = [o["id"] for o in r.json().get("objects", [])] if r.status_code == 200 else []
        by_id = httpx.get(url + f"{obj['id']}/", headers={"Accept": TAXII}, auth=("other-bank", "secret2"))
        print(
            f"medallion: producer-bank posted an AMBER+STRICT indicator (202: {posted}); other-bank GET objects -> "
            f"{r.status_code}, receives it: {obj['id'] in got}; GET object by id -> {by_id.status_code}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    """Command line of the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--database", default=None, help="an existing hub database URL (instead of --databases)")
    ap.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="fresh databases to run on, in turn: sqlite, postgresql (default: both)",
    )
    ap.add_argument("--bundle", type=int, default=10, help="objects per posted bundle (default 10)")
    ap.add_argument("--medallion", default=None, help="python of a virtualenv with medallion installed")
    args = ap.parse_args()
    if args.medallion:
        medallion_check(args.medallion)
    ok = True
    if args.database:
        ok = bench(args.duration, args.database, args.bundle)
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()] if not args.database else []:
        if kind == "postgresql":
            with postgres() as url:
                ok &= bench(args.duration, url, args.bundle)
        elif kind == "sqlite":
            ok &= bench(args.duration, None, args.bundle)
        else:
            raise SystemExit(f"--databases: unknown {kind!r} (sqlite, postgresql)")
        print()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
