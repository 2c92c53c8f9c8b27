"""Fixtures of the fix tests: the fixture folder, a demo advisory database, a copied sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mamori.advisories.store import AdvisoryStore
from mamori.demo import advisories_source, sample_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"

collect_ignore_glob = ["cases/*"]
"""The case projects' own tests run inside ``mamori fix`` (in the sandbox), never in this session."""


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An advisory database holding the bundled demo advisories (real OSV records)."""
    path = tmp_path_factory.mktemp("fixdb") / "advisories.sqlite"
    AdvisoryStore(path).import_paths([advisories_source()])
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A fresh copy of the demo sample project (never the packaged original)."""
    target = tmp_path / "sample"
    shutil.copytree(sample_source(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
