"""Finding the files to parse and dispatching them to parsers.

Parsers live one format family per private module (``_python``, ``_javascript`` …); each module
exposes ``PARSERS``, a list of :class:`~mamori.inventory.interface.Parser` instances. To add a
format, add a parser to one of them (or a new module listed in ``_MODULES``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from mamori.inventory.interface import Component, Inventory, Parser, ParseResult
from mamori.model import ScanError

_MODULES = (
    "mamori.inventory._python",
    "mamori.inventory._javascript",
    "mamori.inventory._others",
    "mamori.inventory._sbom",
)

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
        "bower_components",
        ".eggs",
        "dist-packages",
    }
)
"""Folders never walked into: installed packages, virtual environments, VCS data, caches."""

DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
"""Files larger than this are reported, not read (a hostile 1 GB lockfile must not exhaust memory).
``MAMORI_MAX_FILE_BYTES`` overrides it."""


def max_file_bytes() -> int:
    """The size cap in force (``MAMORI_MAX_FILE_BYTES`` or the default)."""
    try:
        return int(os.environ.get("MAMORI_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))
    except ValueError:
        return DEFAULT_MAX_FILE_BYTES


_cache: list[Parser] | None = None


def parsers() -> list[Parser]:
    """Every registered parser, in a fixed order (the first that matches a file reads it)."""
    global _cache
    if _cache is None:
        found: list[Parser] = []
        for mod_name in _MODULES:
            try:
                mod = importlib.import_module(mod_name)
            except ModuleNotFoundError as exc:  # a format family not built yet
                if exc.name != mod_name:
                    raise
                continue
            found.extend(getattr(mod, "PARSERS", []))
        _cache = found
    return _cache


def parser_for(path: Path) -> Parser | None:
    """The parser that reads ``path``, or None."""
    for parser in parsers():
        if parser.matches(path):
            return parser
    return None


def iter_project_files(root: Path) -> Iterator[Path]:
    """Every file below ``root`` in a stable order, skipping :data:`SKIP_DIRS`."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            yield Path(dirpath) / name


def parse_file(path: Path, rel: str, parser: Parser | None = None) -> ParseResult:
    """Parse one file with its parser, turning any failure into a :class:`ScanError`."""
    parser = parser or parser_for(path)
    if parser is None:
        return ParseResult(errors=(ScanError(rel, "not a lockfile, manifest or SBOM mamori reads"),))
    try:
        size = path.stat().st_size
    except OSError as exc:
        return ParseResult(errors=(ScanError(rel, f"cannot read: {exc.strerror or exc}"),))
    limit = max_file_bytes()
    if size > limit:
        return ParseResult(
            errors=(
                ScanError(
                    rel,
                    f"file is {size} bytes, over the {limit}-byte limit; not read "
                    "(raise MAMORI_MAX_FILE_BYTES to read it)",
                ),
            )
        )
    try:
        return parser.parse(path, rel)
    except RecursionError:
        return ParseResult(errors=(ScanError(rel, "nesting too deep to parse"),))
    except MemoryError:
        return ParseResult(errors=(ScanError(rel, "file too large to parse in memory"),))
    except UnicodeDecodeError as exc:
        return ParseResult(errors=(ScanError(rel, f"not valid UTF-8 text: {exc.reason}"),))
    except OSError as exc:
        return ParseResult(errors=(ScanError(rel, f"cannot read: {exc.strerror or exc}"),))


def collect(target: Path | str, *, extra_files: Iterable[Path] = ()) -> Inventory:
    """The inventory of ``target``: a project folder (walked) or one lockfile/SBOM file.

    Paths in the result are relative to the folder (for a file target, to the file's folder).
    A file given directly that no parser reads is an error in the result, not an exception.
    """
    target = Path(target)
    chosen: list[tuple[Path, Parser | None]]
    if target.is_dir():
        root = target
        files = [(p, parser_for(p)) for p in iter_project_files(root)]
        chosen = [(p, parser) for p, parser in files if parser is not None]
    else:
        root = target.parent
        chosen = [(target, parser_for(target) or _sniff(target))]
    chosen.extend((p, parser_for(p)) for p in extra_files)
    # dicts keep first-seen order and drop repeats: a requirements file included by another
    # (-r) is also found on its own, and must not report its components twice.
    components: dict[Component, None] = {}
    errors: dict[ScanError, None] = {}
    rels: list[str] = []
    for path, parser in chosen:
        rel = _rel(path, root)
        result = parse_file(path, rel, parser)
        rels.append(rel)
        components.update(dict.fromkeys(result.components))
        errors.update(dict.fromkeys(result.errors))
    return Inventory(tuple(components), tuple(errors), tuple(rels), root)


def _sniff(path: Path) -> Parser | None:
    """A file given directly whose name says nothing: read its start to recognise an SBOM."""
    try:
        from mamori.inventory._sbom import sniff
    except ImportError:
        return None
    return sniff(path)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
