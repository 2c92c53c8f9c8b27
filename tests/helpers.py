"""Test helpers: run the real CLI in a subprocess; serve files over real HTTP on loopback."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Run:
    """The outcome of one CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)


def mamori(*args: str | os.PathLike[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``python -m mamori ARGS`` with the test's environment (its MAMORI_HOME)."""
    full_env = {**os.environ, **(env or {}), "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write_osv(folder: Path, record: dict[str, Any]) -> Path:
    """Write one OSV record as ``<id>.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['id']}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def osv_zip(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records as an osv.dev ``all.zip`` (one JSON file per advisory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    return path


@contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a random port) for the duration; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused at once)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def need_url(url: str, *, attempts: int = 3, timeout: float = 10.0) -> None:
    """Skip the calling test (with the reason) unless ``url`` answers: a test that needs a real
    registry says so when it is unreachable. A few attempts with a generous timeout, so that a
    registry slow to answer on a loaded machine does not silently skip the test."""
    import httpx
    import pytest

    last: Exception | None = None
    for _ in range(attempts):
        try:
            httpx.head(url, timeout=timeout, follow_redirects=True).raise_for_status()
            return
        except httpx.HTTPError as exc:
            last = exc
    pytest.skip(f"{url} is unreachable ({last.__class__.__name__}); this test needs the real index")
