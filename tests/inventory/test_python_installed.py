"""The installed-environment reader, run against real interpreters (and a scripted stand-in)."""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

from mamori.inventory._python import installed_environment


def test_lists_this_interpreters_distributions() -> None:
    result = installed_environment(Path(sys.executable))
    assert result.errors == ()
    found = {c.name: c for c in result.components}
    for dist in ("packaging", "hypothesis", "pytest"):
        comp = found[dist]
        assert comp.version == metadata.version(dist)
        assert comp.location.path.endswith(".dist-info") and Path(comp.location.path).is_dir()
        assert comp.source == "installed" and comp.purl == f"pkg:pypi/{dist}@{comp.version}"
    assert len(found) == len(result.components)  # one per name


def test_missing_interpreter_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-python"
    result = installed_environment(missing)
    assert result.components == ()
    assert result.errors[0].path == str(missing)


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    if os.name != "posix":
        pytest.skip("needs a shell script as an interpreter")
    return tmp_path / "python"


def write_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_shadowed_copies_and_broken_metadata(fake_python: Path) -> None:
    listing = [
        {"name": "Django", "version": "3.2.4", "path": "/env/a/Django-3.2.4.dist-info"},
        {"name": "django", "version": "1.11", "path": "/env/b/Django-1.11.dist-info"},
        {"name": None, "version": None, "path": "/env/a/broken.dist-info"},
        {"name": "six", "version": "1.16.0", "path": ""},
    ]
    write_script(fake_python, f"cat <<'EOF'\n{json.dumps(listing)}\nEOF\n")
    result = installed_environment(fake_python)
    assert [(c.name, c.version, c.location.path) for c in result.components] == [
        ("django", "3.2.4", "/env/a/Django-3.2.4.dist-info"),
        ("six", "1.16.0", str(fake_python)),
    ]
    assert [e.path for e in result.errors] == ["/env/a/broken.dist-info"]


def test_failing_interpreter_reports_its_last_words(fake_python: Path) -> None:
    write_script(fake_python, "echo 'ImportError: no importlib.metadata' >&2\nexit 3\n")
    result = installed_environment(fake_python)
    assert result.components == ()
    assert "no importlib.metadata" in result.errors[0].message


def test_garbage_output_is_an_error(fake_python: Path) -> None:
    write_script(fake_python, "echo 'Python 2.7.18'\n")
    result = installed_environment(fake_python)
    assert result.components == () and len(result.errors) == 1
