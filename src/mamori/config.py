"""Where mamori keeps its data and how it reads its settings.

``MAMORI_HOME`` names the folder for the databases and caches (default: the platform's user
data folder). Project settings live in ``mamori.toml`` or ``[tool.mamori]`` of
``pyproject.toml``; every setting may also come from a ``MAMORI_*`` environment variable.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from mamori.errors import InputError


def mamori_home() -> Path:
    """The data folder (created on first use)."""
    env = os.environ.get("MAMORI_HOME")
    home = Path(env) if env else Path(platformdirs.user_data_dir("mamori"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def advisory_db_path() -> Path:
    """The advisory database (OSV advisories, KEV, EPSS): replaced atomically on update."""
    return mamori_home() / "advisories.sqlite"


def results_db_path() -> Path:
    """The results database: scans, findings, alerts, fixes of every run."""
    return mamori_home() / "results.sqlite"


def load_project_config(root: Path) -> dict[str, Any]:
    """Settings of the project at ``root``: ``mamori.toml``, else ``[tool.mamori]``, else empty."""
    own = root / "mamori.toml"
    if own.is_file():
        return _read_toml(own)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = _read_toml(pyproject)
        except InputError:
            return {}
        tool = data.get("tool", {})
        section = tool.get("mamori", {}) if isinstance(tool, dict) else {}
        return section if isinstance(section, dict) else {}
    return {}


MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""Largest settings file read (4 MiB: a real ``pyproject.toml`` is a few KiB)."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InputError(
                f"file is {size} bytes, over the {MAX_CONFIG_BYTES}-byte limit for settings", path=str(path)
            )
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"invalid TOML: {exc}", path=str(path), line=line) from exc
    except (RecursionError, MemoryError):  # tomllib recurses once per nested array or table
        raise InputError("invalid TOML: nested too deep to parse", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid TOML: not UTF-8 text ({exc.reason})", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
