"""Finding the files to parse and dispatching them to parsers.

Parsers live one format family per private module (``_python``, ``_javascript`` …); each module
exposes ``PARSERS``, a list of :class:`~mamori.inventory.interface.Parser` instances. To add a
format, add a parser to one of them (or a new module listed in ``_MODULES``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mamori.inventory.interface import Component, Inventory, Parser, ParseResult
from mamori.model import ScanError
from mamori.treewalk import inside, regular_file_error, walk_files

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


def _skip_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info")


def iter_project_files(
    root: Path, errors: list[ScanError] | None = None, want: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Every regular file below ``root`` in a stable order, skipping :data:`SKIP_DIRS`.

    Walked with :func:`mamori.treewalk.walk_files`: symlink loops and symlinked folders outside
    the project are not followed, special files are not yielded; each is added to ``errors``.
    """
    yield from walk_files(root, skip_dir=_skip_dir, want=want or (lambda p: True), errors=errors)


def parse_file(path: Path, rel: str, parser: Parser | None = None) -> ParseResult:
    """Parse one file with its parser, turning any failure into a :class:`ScanError`."""
    parser = parser or parser_for(path)
    if parser is None:
        return ParseResult(errors=(ScanError(rel, "not a lockfile, manifest or SBOM mamori reads"),))
    special = regular_file_error(path)
    if special:  # a FIFO would block the read, /dev/zero would never end
        return ParseResult(errors=(ScanError(rel, special),))
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
    walk_errors: list[ScanError] = []
    if target.is_dir():
        root = target
        files = [(p, parser_for(p)) for p in iter_project_files(root, walk_errors, lambda p: True)]
        chosen = [(p, parser) for p, parser in files if parser is not None]
        walk_errors = [e for e in walk_errors if _walk_error_matters(e, root)]
    else:
        root = target.parent
        chosen = [(target, parser_for(target) or _sniff(target))]
    chosen.extend((p, parser_for(p)) for p in extra_files)
    # dicts keep first-seen order and drop repeats: a requirements file included by another
    # (-r) is also found on its own, and must not report its components twice.
    components: dict[Component, None] = {}
    errors: dict[ScanError, None] = dict.fromkeys(walk_errors)
    rels: list[str] = []
    for path, parser in chosen:
        rel = _rel(path, root)
        result = parse_file(path, rel, parser)
        rels.append(rel)
        components.update(dict.fromkeys(result.components))
        errors.update(dict.fromkeys(_contained(e, root) for e in result.errors))
    return Inventory(tuple(components), tuple(errors), tuple(rels), root)


def _walk_error_matters(error: ScanError, root: Path) -> bool:
    """Walk problems worth listing: loops and outside links always, special files only when a
    parser would have read them (a socket in ``.git`` or a FIFO named ``notes`` is no gap)."""
    if "not a regular file" in error.message or "symlink: not read" in error.message:
        return parser_for(root / error.path) is not None
    return True


_OWN_MESSAGES = (
    "not a regular file",
    "is a folder",
    "file is ",
    "cannot read",
    "not valid UTF-8 text",
    "nesting too deep",
    "file too large",
)
"""Messages mamori writes without quoting a file (kept for files outside the project)."""

OUTSIDE_MESSAGE = "file outside the project could not be read as a lockfile; its content is not shown"


def _contained(error: ScanError, root: Path) -> ScanError:
    """An error about a file outside the project (reached through ``-r ../x`` or a symlink)
    keeps its path and line but not its message, which may quote the file's content."""
    if _outside(error.path, root) and not error.message.startswith(_OWN_MESSAGES):
        return ScanError(error.path, OUTSIDE_MESSAGE, error.line)
    return error


def _outside(rel: str, root: Path) -> bool:
    if not rel or rel.startswith("../") or rel == ".." or Path(rel).is_absolute():
        return True
    return not inside(root / rel, root)


def _sniff(path: Path) -> Parser | None:
    """A file given directly whose name says nothing: read its start to recognise an SBOM."""
    try:
        from mamori.inventory._sbom import sniff
    except ImportError:
        return None
    return sniff(path)


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root``: where it really is when that is inside, else its own name
    (a symlink to a file outside keeps the link's name, never a path of this machine)."""
    for p, r in ((path.resolve(), root.resolve()), (path, root), (path.absolute(), root.absolute())):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    return path.as_posix()
