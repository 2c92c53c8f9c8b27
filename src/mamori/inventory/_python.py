"""Parsers of every Python dependency format, and the installed-environment reader.

Python projects declare dependencies in many places (pip requirements files, ``pyproject.toml``
in four dialects, ``Pipfile``, ``setup.py`` read without running it, ``setup.cfg``) and lock them in five formats (Poetry, uv, PDM, PEP 751, Pipenv).
Each parser here reads one of them into PyPI components with the exact line they come from; the
registry picks the first parser whose :meth:`matches` accepts a file name. The formats
themselves live in the private ``_py_*`` modules; this module only names and registers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from mamori.inventory import _py_locks, _py_manifests, _py_requirements, _py_setup
from mamori.inventory._py_installed import installed_environment
from mamori.inventory.interface import Parser, ParseResult

__all__ = ["PARSERS", "installed_environment"]

_PYLOCK_RE = re.compile(r"^pylock\.([^.]+\.)?toml$")


class _PythonParser:
    """A parser made of a name, a file-name test and a parse function."""

    def __init__(
        self,
        name: str,
        matches: Callable[[Path], bool],
        parse: Callable[[Path, str], ParseResult],
    ) -> None:
        self.name = name
        self._matches = matches
        self._parse = parse

    def matches(self, path: Path) -> bool:
        """True when this parser reads the file at ``path`` (by its name)."""
        return self._matches(path)

    def parse(self, path: Path, rel: str) -> ParseResult:
        """Parse ``path``; ``rel`` is the path put in locations and errors."""
        return self._parse(path, rel)

    def __repr__(self) -> str:
        return f"<parser {self.name}>"


def _named(name: str) -> Callable[[Path], bool]:
    return lambda path: path.name == name


PARSERS: list[Parser] = [
    _PythonParser("requirements", _py_requirements.matches, _py_requirements.parse),
    _PythonParser("pyproject", _named("pyproject.toml"), _py_manifests.parse_pyproject),
    _PythonParser("pipfile", _named("Pipfile"), _py_manifests.parse_pipfile),
    _PythonParser("setup-py", _named("setup.py"), _py_setup.parse_setup_py),
    _PythonParser("setup-cfg", _named("setup.cfg"), _py_setup.parse_setup_cfg),
    _PythonParser("poetry-lock", _named("poetry.lock"), _py_locks.parse_poetry),
    _PythonParser("uv-lock", _named("uv.lock"), _py_locks.parse_uv),
    _PythonParser("pdm-lock", _named("pdm.lock"), _py_locks.parse_pdm),
    _PythonParser("pylock", lambda path: _PYLOCK_RE.match(path.name) is not None, _py_locks.parse_pylock),
    _PythonParser("pipfile-lock", _named("Pipfile.lock"), _py_locks.parse_pipfile_lock),
]
"""Every Python format parser, in registry order."""
