"""Fixtures of the share tests: a real PostgreSQL server, a real hub on uvicorn, organisations.

PostgreSQL comes from Debian's ``postgresql`` package (``apt-get install -y postgresql``); the
fixture creates a throw-away cluster with ``initdb`` in a temporary folder, starts ``postgres``
on a free loopback port (as the ``postgres`` user when the tests run as root) and stops it at
the end. Without the binaries the PostgreSQL cases are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL server: yields a SQLAlchemy URL of a superuser on its 'postgres' db."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries missing: apt-get install -y postgresql")
    base = Path(tempfile.mkdtemp(prefix="mamori-pg-"))
    data = base / "data"
    as_user: str | None = None  # run as this user (postgres refuses root)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        base.chmod(0o700)
        as_user = "postgres"
    port = free_port()
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=as_user,
        cwd=base,
    )
    # started directly (not through runuser, which does not pass signals on): the SIGINT of
    # the teardown reaches postgres itself, which stops at once
    proc = subprocess.Popen(
        [
            str(bindir / "postgres"),
            "-D", str(data),
            "-p", str(port),
            "-h", "127.0.0.1",
            "-k", str(base),
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "max_connections=300",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=as_user,
        cwd=base,
    )  # fmt: skip
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
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
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the test PostgreSQL server."""
    import psycopg

    name = "hub_" + uuid.uuid4().hex[:12]
    port = postgres_server.rsplit(":", 1)[1].split("/")[0]
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every hub test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@dataclass
class LiveHub:
    """A hub served by uvicorn on 127.0.0.1, with its organisations' tokens."""

    url: str
    hub: object
    tokens: dict[str, str]

    @property
    def discovery(self) -> str:
        """The TAXII discovery URL."""
        return self.url + "/taxii2/"

    def collection_url(self, alias: str) -> str:
        """The TAXII URL of a sector's (or the cross-sector) collection."""
        from mamori.share.sectors import collection_id

        return f"{self.url}/taxii2/hub/collections/{collection_id(alias)}/"


ORGS = {
    # name: (sector, role)
    "Producer Bank": ("finance", "writer"),
    "Recipient Bank": ("finance", "reader"),
    "Other Bank": ("finance", "reader"),
    "Grid Power": ("electric-power", "writer"),
}


@contextlib.contextmanager
def serve(database: str, orgs: dict[str, tuple[str, str]]) -> Iterator[LiveHub]:
    """A hub on ``database`` with ``orgs`` registered, served on a free port until the block ends."""
    import uvicorn

    from mamori.share._hub import Hub
    from mamori.share._server import create_app

    hub = Hub.open(database)
    tokens = {name: hub.add_org(name, sector, role) for name, (sector, role) in orgs.items()}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    try:
        yield LiveHub(f"http://127.0.0.1:{port}", hub, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        hub.close()


@pytest.fixture
def live_hub(database_url: str) -> Iterator[LiveHub]:
    """A served hub (SQLite and PostgreSQL) with the four organisations of :data:`ORGS`."""
    with serve(database_url, ORGS) as live:
        yield live


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[LiveHub]:
    """A served hub on SQLite only (for tests of the HTTP surface that do not depend on storage)."""
    with serve(f"sqlite:///{tmp_path / 'hub.sqlite'}", ORGS) as live:
        yield live
