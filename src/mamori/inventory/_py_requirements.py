"""pip requirements files: ``requirements*.txt``, ``requirements/*.txt``, ``constraints*.txt``.

The format is pip's, not PEP 508 alone: logical lines joined by ``\\``, comments after ``#``
at the start or after whitespace, options lines (``--index-url`` …), per-requirement options
(``--hash=…``), editable and URL requirements, and ``-r``/``-c`` includes that pull other files
in. Requirement strings are parsed with :mod:`packaging`; only ``==``/``===`` pins give a
matchable version. Markers never drop a requirement: a pin for another platform is still in the
project. Included files are read once, their components keep their own path and line, and
include cycles are reported instead of followed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from mamori.ecosystems import normalize_name
from mamori.inventory._py_common import (
    component,
    parse_requirement,
    pinned_version,
    read_text,
    requirement_range,
    short,
    valid_name,
)
from mamori.inventory.interface import Component, ParseResult
from mamori.model import ScanError

SOURCE = "requirements"
MAX_INCLUDE_DEPTH = 32
"""Includes nested deeper than this are reported, not followed."""

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_INCLUDE_RE = re.compile(r"^(--requirement|--constraint|-r|-c)(?:\s*=\s*|\s*)(\S.*)$")
_EDITABLE_RE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)(\S.*)$")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


def matches(path: Path) -> bool:
    """``requirements*.txt``, ``constraints*.txt`` or any ``.txt`` in a ``requirements`` folder."""
    name = path.name.lower()
    if not name.endswith(".txt"):
        return False
    return (
        name.startswith("requirements")
        or name.startswith("constraints")
        or path.parent.name.lower() == "requirements"
    )


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line, joined text) per logical line, comments removed, blanks skipped."""
    parts: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            first = number
        if raw.endswith("\\") and not _COMMENT_RE.match(raw):
            parts.append(raw[:-1])
            continue
        parts.append(raw)
        joined = _COMMENT_RE.sub("", "".join(parts)).strip()
        parts = []
        if joined:
            yield first, joined
    if parts:
        joined = _COMMENT_RE.sub("", "".join(parts)).strip()
        if joined:
            yield first, joined


@dataclass
class _State:
    components: list[Component] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    done: set[Path] = field(default_factory=set)


def parse(path: Path, rel: str) -> ParseResult:
    """Components of a requirements file and of the files it includes."""
    state = _State()
    _parse_file(path, rel, state, stack=())
    return ParseResult(tuple(state.components), tuple(state.errors))


def _parse_file(path: Path, rel: str, state: _State, stack: tuple[Path, ...]) -> None:
    key = path.resolve()
    state.done.add(key)
    text = read_text(path)
    stack = (*stack, key)
    for line, content in logical_lines(text):
        include = _INCLUDE_RE.match(content)
        if include is not None:
            _include(path, rel, line, include.group(2).strip(), state, stack)
            continue
        editable = _EDITABLE_RE.match(content)
        if editable is not None:
            _url_requirement(editable.group(1).strip(), rel, line, state, editable=True)
            continue
        if content.startswith("-"):
            continue  # an options line: --index-url, --hash alone, --pre, -f …
        req_text = _strip_options(content)
        if not req_text:
            continue
        req = parse_requirement(req_text)
        if isinstance(req, str):
            if _looks_like_location(req_text):
                _url_requirement(req_text, rel, line, state, editable=False)
            else:
                state.errors.append(ScanError(rel, req, line))
            continue
        version = pinned_version(req)
        if req.url and not version:
            version = _archive_version(req.url, req.name)
        state.components.append(
            component(req.name, version, rel, line, source=SOURCE, range_spec=requirement_range(req))
        )


def _strip_options(content: str) -> str:
    """The requirement part of a line: tokens up to the first ``-``/``--`` option (as pip does)."""
    args: list[str] = []
    for token in content.split(" "):
        if token.startswith("-"):
            break
        args.append(token)
    return " ".join(args).strip()


def _include(
    path: Path,
    rel: str,
    line: int,
    target: str,
    state: _State,
    stack: tuple[Path, ...],
) -> None:
    target = target.split(" ")[0].strip("\"'")
    if "://" in target:
        state.errors.append(ScanError(rel, f"remote include not followed: {short(target)}", line))
        return
    child = path.parent / target
    child_rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target.replace("\\", "/")))
    try:
        key = child.resolve()
    except (OSError, RuntimeError):
        state.errors.append(ScanError(rel, f"cannot resolve include {short(target)}", line))
        return
    if key in stack:
        state.errors.append(ScanError(rel, f"include cycle: {short(target)} is already being read", line))
        return
    if key in state.done:
        return  # read already through another include
    if len(stack) >= MAX_INCLUDE_DEPTH:
        state.errors.append(ScanError(rel, f"includes nested deeper than {MAX_INCLUDE_DEPTH}", line))
        return
    if not child.is_file():
        state.errors.append(ScanError(rel, f"included file not found: {short(target)}", line))
        return
    try:
        _parse_file(child, child_rel, state, stack)
    except UnicodeDecodeError as exc:
        state.errors.append(ScanError(child_rel, f"not valid UTF-8 text: {exc.reason}"))
    except OSError as exc:
        state.errors.append(ScanError(rel, f"cannot read include {short(target)}: {exc.strerror}", line))


def _looks_like_location(text: str) -> bool:
    """A bare URL, VCS URL or local path, which pip accepts in place of a requirement."""
    lowered = text.lower()
    return (
        "://" in text
        or text.startswith((".", "/", "~", "file:"))
        or lowered.endswith(_ARCHIVE_SUFFIXES)
        or "/" in text.split(";")[0]
    )


def _url_requirement(target: str, rel: str, line: int, state: _State, *, editable: bool) -> None:
    """Editable, VCS, URL or path requirement: its name when knowable, version only from a wheel/sdist."""
    target = _strip_options(target) or target
    req = parse_requirement(target)
    if not isinstance(req, str) and req.url:
        state.components.append(
            component(req.name, _archive_version(req.url, req.name), rel, line, source=SOURCE)
        )
        return
    egg = _EGG_RE.search(target)
    if egg is not None and valid_name(egg.group(1)):
        state.components.append(component(egg.group(1), "", rel, line, source=SOURCE))
        return
    if not editable:
        found = _archive(target)
        if found is not None:
            state.components.append(component(found[0], found[1], rel, line, source=SOURCE))
    # a local project path (``-e .``, ``./pkg``) has no knowable name here: skipped, no error


def _archive(url: str) -> tuple[str, str] | None:
    """(name, version) from a wheel or sdist file name at the end of a URL or path."""
    if url.startswith(("git+", "hg+", "svn+", "bzr+")):
        return None
    filename = unquote(posixpath.basename(urlsplit(url).path))
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            sname, sversion = parse_sdist_filename(filename)
            return str(sname), str(sversion)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _archive_version(url: str, name: str) -> str:
    found = _archive(url)
    if found is None:
        return ""
    if normalize_name("PyPI", found[0]) != normalize_name("PyPI", name):
        return ""
    return found[1]
