"""Fixtures of the dashboard tests: the real pipeline's data (``mamori demo`` into a temporary
MAMORI_HOME, once per session) and a hub app over it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
