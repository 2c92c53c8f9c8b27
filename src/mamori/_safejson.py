"""The one safe JSON loader for input mamori did not write (issue 11).

Lockfiles, ``package.json``, OSV and KEV records, VEX documents, STIX bundles and alert files
come from projects, feeds and peers: untrusted. :func:`json.loads` on them can be turned against
mamori — an array nested 100,000 deep raises :class:`RecursionError` (a traceback where an
``except ValueError`` was written), ``[{},{},…]`` builds hundreds of bytes of Python objects per
byte of input, and a FIFO or ``/dev/zero`` named ``package.json`` never ends. Every reader of
such JSON goes through :func:`loads` / :func:`load`, which measure the text at C speed before
anything is built and refuse, with a :class:`~mamori.errors.ParseError` that names the file and
line:

- more than ``max_bytes`` (:func:`load` reads no further than that, and only regular files);
- nesting deeper than ``max_depth`` (brackets counted outside strings, no recursion);
- more values than ``max_values``, or a text denser than one object/array per
  :data:`BYTES_PER_CONTAINER` bytes (the ``[{},{},…]`` memory bomb);
- invalid JSON (the line and column of the problem).

The decoder itself is the standard library's; :class:`RecursionError` is caught as a last line
of defence, never relied on.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from mamori.errors import ParseError

MAX_DEPTH = 256
"""Deepest nesting of arrays/objects accepted; real lockfiles, SBOMs, OSV and STIX stay below 50."""

MAX_BYTES = 256 * 1024 * 1024
"""Largest JSON text read by default (a 100,000-package ``package-lock.json`` is about 60 MB)."""

MAX_JSON_VALUES = 5_000_000
"""Most values (objects, arrays and scalars) decoded from one JSON text: several hundred MB
once built. A 100,000-package ``package-lock.json`` holds about two million."""

BYTES_PER_CONTAINER = 16
"""Real documents spend well over a hundred bytes per object or array (a key, a version, a
URL); a text denser than one per 16 bytes (``[{},{},…]``) would take hundreds of bytes of memory
per byte of input once decoded, so it is refused before it is built."""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_YAML_QUOTED = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\n]*(?:\'\'[^\'\n]*)*\'')
_DEPTH_STEP_BYTES = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in _DEPTH_STEP_BYTES)


def max_bracket_depth(text: str, *, yaml_quotes: bool = False) -> int:
    """The deepest nesting of ``[``/``{`` in ``text``, ignoring brackets inside strings.

    Runs at C speed (regular expressions and :func:`itertools.accumulate`), so a hostile text
    is measured before any recursive decoder sees it.
    """
    return bracket_depth_of_stripped((_YAML_QUOTED if yaml_quotes else _JSON_STRING).sub("", text))


def bracket_depth_of_stripped(stripped: str) -> int:
    """:func:`max_bracket_depth` of a text whose strings were already removed."""
    # bytes.translate deletes every other byte in C without building a piece per match (re.sub
    # on ``[{},{},…]`` made ten million one-character strings: 800 MB for a 30 MB file)
    brackets = stripped.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKET_BYTES)
    if not brackets:
        return 0
    return max(0, max(itertools.accumulate(map(_DEPTH_STEP_BYTES.__getitem__, brackets))))


def check_json_size(text: str, rel: str, *, max_values: int = MAX_JSON_VALUES) -> None:
    """Refuse JSON whose decoded form would be far larger than any real document's (counted at
    C speed on the raw text, before anything is built).

    Raises:
        ParseError: with the counts, naming the file.
    """
    # counted on the raw text (brackets and commas inside strings too: an over-estimate, and
    # real documents have few), so that nothing is allocated before the text is judged
    containers = text.count("{") + text.count("[")
    values = containers + text.count(",") + 1
    if values > max_values:
        raise ParseError(
            f"JSON with about {values} values, over the limit of {max_values}; not parsed", path=rel
        )
    if containers > 100_000 and containers * BYTES_PER_CONTAINER > len(text):
        raise ParseError(
            f"JSON with {containers} objects/arrays in {len(text)} characters (denser than one per "
            f"{BYTES_PER_CONTAINER}): not parsed (it would take gigabytes in memory)",
            path=rel,
        )


def loads(
    data: str | bytes | bytearray,
    rel: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """Decode the JSON ``data`` read from ``rel`` within the caps (see the module docstring).

    Raises:
        ParseError: naming ``rel`` (and the line, for invalid JSON), for anything refused.
    """
    if len(data) > max_bytes:
        raise ParseError(
            f"JSON of {len(data):,} bytes, over the limit of {max_bytes:,}; not parsed", path=rel
        )
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"not UTF-8 JSON: {exc.reason} at byte {exc.start}", path=rel) from None
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
    depth = max_bracket_depth(text)
    if depth > max_depth:
        raise ParseError(f"JSON nested {depth} deep, over the limit of {max_depth}; not parsed", path=rel)
    check_json_size(text, rel, max_values=max_values)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=rel, line=exc.lineno) from None
    except RecursionError:  # pragma: no cover - the depth cap comes first
        raise ParseError("JSON nested too deep to parse", path=rel) from None
    except ValueError as exc:  # e.g. an integer of more digits than int() accepts
        raise ParseError(f"invalid JSON: {exc}", path=rel) from None
    return without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _clean(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings and keys made U+FFFD.

    ``"\\ud800"`` is valid JSON that decodes to a string no UTF-8 writer accepts back: a lockfile
    naming a package so stopped every output of a scan (the purl, the report, the results
    database). Walked without recursion (the depth is capped already); a valid pair was joined
    into one character by the decoder and stays as it is.
    """
    if isinstance(value, str):
        return _clean(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = _clean(item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            for k in list(item):
                if isinstance(k, str) and not k.isascii():
                    fixed = _clean(k)
                    if fixed != k:
                        item[fixed] = item.pop(k)
                        k = fixed
                stack.append((item, k))
    return root[0]


def read_bounded(path: Path, rel: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refusing FIFOs, devices and files over
    ``max_bytes`` without reading more than that.

    Raises:
        ParseError: naming ``rel``, for a file that is not regular, too large or unreadable.
    """
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NONBLOCK)) as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ParseError("not a regular file (a FIFO, device or socket); not read", path=rel)
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=rel) from None
    if len(data) > max_bytes:
        raise ParseError(f"file over the limit of {max_bytes:,} bytes; not parsed", path=rel)
    return data


def load(
    path: Path,
    rel: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """Read the JSON file at ``path`` (see :func:`read_bounded`) and decode it (:func:`loads`).

    ``rel`` is how the file is named in errors (default: ``path`` as given).

    Raises:
        ParseError: naming the file, for anything refused.
    """
    shown = rel if rel is not None else str(path)
    data = read_bounded(path, shown, max_bytes=max_bytes)
    return loads(data, shown, max_bytes=max_bytes, max_depth=max_depth, max_values=max_values)


__all__ = [
    "BYTES_PER_CONTAINER",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_JSON_VALUES",
    "bracket_depth_of_stripped",
    "check_json_size",
    "load",
    "loads",
    "max_bracket_depth",
    "read_bounded",
    "without_lone_surrogates",
]
