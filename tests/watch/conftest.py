"""Fixtures of the watch tests: the loopback world, a watched project with its bare remote."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.watch.world import TOKEN, World, load_advisory, make_project, serve, stock_index


@dataclass
class Setup:
    """A world, one project in a bare repository, and the fleet file watching it."""

    world: World
    work: Path
    bare: Path
    fleet: Path


def write_fleet(path: Path, world: World, projects: str, *, extra: str = "") -> Path:
    """A fleet file whose feeds, forge and webhook all point at the loopback world."""
    path.write_text(
        f"""# test fleet
[feeds]
osv = "{world.url}/osv"
kev = "{world.url}/kev.json"
epss = "{world.url}/epss.csv"
interval = 1

[forge]
api = "{world.url}/github"
token_env = "MAMORI_TEST_FORGE_TOKEN"

[notify]
webhooks = ["{world.url}/hook"]

[fix]
python = "{sys.executable}"
{extra}
{projects}"""
    )
    return path


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The loopback world, its OSV PyPI feed holding one old pyyaml advisory (not affecting 5.3),
    its package index the generated wheels of :data:`tests.watch.world.STOCK` (PIP_INDEX_URL)."""
    w = World()
    w.publish("PyPI", load_advisory("PYSEC-2018-49"))
    stock_index(w)
    with serve(w):
        monkeypatch.setenv("PIP_INDEX_URL", f"{w.url}/simple/")
        yield w


@pytest.fixture
def setup(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """Project ``app`` (pyyaml 5.3, a unittest suite) in a bare repository, watched with policy propose."""
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    work, bare = make_project(tmp_path, "app", "pyyaml==5.3\n")
    world.repos["acme/app"] = bare
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f"""
[[project]]
name = "app"
git = "{bare.as_uri()}"
branch = "main"
github = "acme/app"
auto_fix = ["act", "attend", "track*", "track"]
asset = {{ sector = "electric-power", criticality = "high", exposure = "internet" }}
""",
    )
    return Setup(world, work, bare, fleet)
