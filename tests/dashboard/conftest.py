"""Fixtures of the dashboard tests: the real pipeline's data (``mamori demo`` into a temporary
MAMORI_HOME, once per session), ``mamori serve`` over it and a headless chromium, shared by
the browser tests so the server and the browser start once."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console


@dataclass(frozen=True)
class Demo:
    """What ``mamori demo`` left behind."""

    home: Path
    out: Path
    output: str
    token: str

    @property
    def results(self) -> Path:
        return self.home / "results.sqlite"

    @property
    def hub_url(self) -> str:
        return f"sqlite:///{self.home / 'hub.sqlite'}"

    @property
    def project(self) -> Path:
        return self.out / "sample"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Run the whole demo (scan, fix, re-scan, detect, share) into a fresh MAMORI_HOME."""
    from mamori.demo import run_demo

    home = tmp_path_factory.mktemp("dashboard-home")
    out = tmp_path_factory.mktemp("dashboard-demo")
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAMORI_HOME", str(home))
        code = run_demo(out, console=Console(file=buffer, width=200, highlight=False, color_system=None))
    text = buffer.getvalue()
    assert code == 0, text
    match = re.search(r"with the token:\s*\n\s*(\S+)", text)
    assert match, text
    yield Demo(home, out.resolve(), text, match.group(1))


CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[str]:
    """``mamori serve`` over the demo's MAMORI_HOME, on a free port; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "MAMORI_HOME": str(demo.home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mamori", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(
                    f"mamori serve exited: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
            try:
                httpx.get(base + "/login", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("mamori serve did not start listening")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian chromium (Playwright, fresh profile) at 1366x768; skips without it."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python package is not installed (pip install playwright)")
    with tempfile.TemporaryDirectory(prefix="mamori-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1366, "height": 768},
            ignore_default_args=["--headless=new"],
        )
        try:
            yield context
        finally:
            context.close()
