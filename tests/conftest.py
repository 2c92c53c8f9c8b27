"""Shared fixtures: the shared data folder beside the repo, an isolated MAMORI_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed so that a landing is judged on the same examples
# every time; locally they stay random and keep searching.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own MAMORI_HOME, so no test sees another's databases."""
    home = tmp_path_factory.mktemp("mamori-home")
    monkeypatch.setenv("MAMORI_HOME", str(home))
    return home


@pytest.fixture
def mamori_home(_isolated_home: Path) -> Path:
    """The MAMORI_HOME of this test."""
    return _isolated_home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository (skips when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present beside the repository")
    return SHARED_DATA
