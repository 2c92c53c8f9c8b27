"""The packages installed in a Python environment, for ``mamori scan --python PATH``.

What is installed is what runs, whatever the manifests say. The environment is asked by running
its own interpreter (``-I``: isolated, so neither ``PYTHON*`` variables nor the current folder
can change what it imports) with a short program that lists :mod:`importlib.metadata`
distributions as JSON. Reading ``site-packages`` from outside would miss ``.pth`` paths and the
interpreter's own view of which copy of a package shadows another.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mamori.ecosystems import normalize_name
from mamori.inventory._py_common import ECOSYSTEM, component, short, valid_name
from mamori.inventory.interface import Component, ParseResult
from mamori.model import ScanError

SOURCE = "installed"
TIMEOUT_SECONDS = 120.0
"""How long the interpreter may take to list its distributions."""

_PROGRAM = r"""
import json, sys
try:
    from importlib import metadata
except ImportError:
    sys.stderr.write("needs Python 3.8 or later (importlib.metadata)\n")
    sys.exit(3)
out = []
for dist in metadata.distributions():
    try:
        name = dist.metadata["Name"]
        version = dist.version
    except Exception as exc:
        name, version = None, None
    path = getattr(dist, "_path", None)
    out.append({"name": name, "version": version, "path": str(path) if path is not None else ""})
sys.stdout.write(json.dumps(out))
"""


def installed_environment(python: Path) -> ParseResult:
    """Every distribution the interpreter ``python`` can import, located at its dist-info folder.

    Errors (no such interpreter, a crash, a timeout, unreadable metadata) are returned as
    :class:`ScanError` values naming the interpreter, never raised.
    """
    where = str(python)
    try:
        done = subprocess.run(
            [where, "-I", "-c", _PROGRAM],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        return ParseResult(errors=(ScanError(where, "no such Python interpreter"),))
    except PermissionError:
        return ParseResult(errors=(ScanError(where, "not executable"),))
    except subprocess.TimeoutExpired:
        return ParseResult(errors=(ScanError(where, f"did not answer within {TIMEOUT_SECONDS:g} s"),))
    except OSError as exc:
        return ParseResult(errors=(ScanError(where, f"cannot run: {exc.strerror or exc}"),))
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        last = stderr.splitlines()[-1] if stderr else f"exit status {done.returncode}"
        return ParseResult(errors=(ScanError(where, f"cannot list installed packages: {short(last)}"),))
    try:
        listed = json.loads(done.stdout.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError):
        return ParseResult(errors=(ScanError(where, "not a Python interpreter mamori can query"),))
    if not isinstance(listed, list):
        return ParseResult(errors=(ScanError(where, "not a Python interpreter mamori can query"),))
    return _components(listed, where)


def _components(listed: list[object], where: str) -> ParseResult:
    components: list[Component] = []
    errors: list[ScanError] = []
    seen: set[str] = set()
    for item in listed:
        if not isinstance(item, dict):
            continue
        name, version, path = item.get("name"), item.get("version"), item.get("path")
        location = path if isinstance(path, str) and path else where
        if not valid_name(name) or not isinstance(version, str) or not version:
            errors.append(ScanError(location, "installed distribution with unreadable name or version"))
            continue
        assert isinstance(name, str)
        norm = normalize_name(ECOSYSTEM, name)
        if norm in seen:
            continue  # shadowed by a copy earlier on sys.path
        seen.add(norm)
        components.append(component(name, version, location, 0, source=SOURCE))
    return ParseResult(tuple(components), tuple(errors))
