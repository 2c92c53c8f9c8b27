"""Shared helpers of the Python-format parsers: components, TOML loading and line finding.

``tomllib`` and ``json`` return values without positions, but a finding must point at the line
where a package is declared. :class:`TomlLines` recovers positions by scanning the text the
decoder already accepted: table headers give ranges, keys and quoted strings are searched inside
them. The decoded data stays the source of truth; the scan only says *where*.

The dependency-graph helper :func:`classify` turns a lock's graph plus its root dependencies
into direct/dev flags, the same way for every lockfile format.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from mamori.ecosystems import normalize_name
from mamori.inventory._common import make_component
from mamori.inventory.interface import Component
from mamori.model import ScanError

ECOSYSTEM = "PyPI"
_NAME_RE = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_TOML_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_MAX_MESSAGE = 200


def valid_name(name: object) -> bool:
    """True for a string that is a valid Python distribution name (PEP 508)."""
    return isinstance(name, str) and _NAME_RE.match(name) is not None


def short(text: str) -> str:
    """``text`` cut to a length fit for an error message (files may hold anything)."""
    text = text.strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def component(
    name: str,
    version: str,
    rel: str,
    line: int,
    *,
    source: str,
    direct: bool | None = None,
    dev: bool | None = None,
    range_spec: str = "",
) -> Component:
    """A PyPI component with its PEP 503 name and purl (``range_spec`` when it is not pinned)."""
    return make_component(
        ECOSYSTEM, name, version, rel, line, source=source, direct=direct, dev=dev, range_spec=range_spec
    )


def requirement_range(req: Requirement) -> str:
    """The specifier a requirement allows, as written (``>=0.12``), or ``"*"`` for none."""
    if req.url:
        return ""
    return str(req.specifier) or "*"


def pinned_version(req: Requirement) -> str:
    """The exact version a requirement pins (``==1.2``/``===1.2``), or ``""`` for a range or URL."""
    if req.url:
        return ""
    for spec in req.specifier:
        if spec.operator == "===":
            return spec.version
        if spec.operator == "==" and not spec.version.endswith(".*"):
            return spec.version
    return ""


def parse_requirement(text: str) -> Requirement | str:
    """A PEP 508 requirement, or the parser's complaint as a string."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid requirement"
        return f"invalid requirement {short(text)!r}: {short(first)}"


def requirement_name(text: object) -> str | None:
    """The normalised name of a PEP 508 requirement string, or None if it is not one."""
    if not isinstance(text, str):
        return None
    req = parse_requirement(text)
    if isinstance(req, str):
        return None
    return normalize_name(ECOSYSTEM, req.name)


def read_text(path: Path) -> str:
    """The file's text (UTF-8, BOM tolerated)."""
    return path.read_text(encoding="utf-8-sig")


def load_toml(text: str, rel: str) -> dict[str, Any] | ScanError:
    """Decoded TOML, or a :class:`ScanError` at the decoder's line (deep nesting included)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        match = _TOML_POS_RE.search(msg)
        line = int(match.group(1)) if match else 0
        return ScanError(rel, f"invalid TOML: {short(_TOML_POS_RE.sub('', msg).strip())}", line)
    except RecursionError:
        return ScanError(rel, "invalid TOML: nesting too deep to parse")


def load_json(text: str, rel: str) -> Any | ScanError:
    """Decoded JSON, or a :class:`ScanError` at the decoder's line (deep nesting included)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return ScanError(rel, f"invalid JSON: {exc.msg}", exc.lineno)
    except RecursionError:
        return ScanError(rel, "invalid JSON: nesting too deep to parse")


_HEADER_RE = re.compile(r"^[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_\-.\"' \t]+?)[ \t]*(\]\]?)[ \t]*(?:#.*)?$")
_KEY_PART_RE = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_\-]+))\s*(?:\.|$)""")


def _split_key(raw: str) -> tuple[str, ...] | None:
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        match = _KEY_PART_RE.match(raw, pos)
        if match is None or match.end() == pos:
            return None
        quoted, literal, bare = match.groups()
        parts.append(quoted if quoted is not None else literal if literal is not None else bare)
        pos = match.end()
    return tuple(parts) if parts else None


@dataclass(frozen=True, slots=True)
class Header:
    """A table header of a TOML text: its key, whether it is ``[[array]]``, and its span."""

    key: tuple[str, ...]
    array: bool
    line: int
    """1-based line of the header."""
    start: int
    """Offset just after the header line."""
    end: int
    """Offset of the next header (or the end of the text)."""


class TomlLines:
    """Positions in a TOML text that ``tomllib`` accepted: headers, keys and strings → lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        found: list[tuple[tuple[str, ...], bool, int, int]] = []
        in_multiline = False
        for idx, start in enumerate(self._starts):
            end = self._starts[idx + 1] if idx + 1 < len(self._starts) else len(text)
            line = text[start:end].rstrip("\r\n")
            if (line.count('"""') + line.count("'''")) % 2 == 1:
                in_multiline = not in_multiline
                continue
            if in_multiline:
                continue
            match = _HEADER_RE.match(line)
            if match is None or (match.group(1) == "[[") != (match.group(3) == "]]"):
                continue
            key = _split_key(match.group(2))
            if key is not None:
                found.append((key, match.group(1) == "[[", idx + 1, end))
        headers: list[Header] = []
        for i, (key, array, line_no, after) in enumerate(found):
            nxt = self._starts[found[i + 1][2] - 1] if i + 1 < len(found) else len(text)
            headers.append(Header(key, array, line_no, after, nxt))
        self.headers: tuple[Header, ...] = tuple(headers)
        self._top_end = self._starts[found[0][2] - 1] if found else len(text)

    def line_of(self, offset: int) -> int:
        """The 1-based line of a text offset."""
        return bisect.bisect_right(self._starts, offset)

    def top(self) -> tuple[int, int]:
        """The span before the first header (the root table's own keys)."""
        return 0, self._top_end

    def tables(self, key: tuple[str, ...]) -> list[Header]:
        """Headers whose key is ``key`` (several for an array of tables), in text order."""
        return [h for h in self.headers if h.key == key]

    def table(self, key: tuple[str, ...]) -> Header | None:
        """The first header named ``key``."""
        found = self.tables(key)
        return found[0] if found else None

    def key_line(self, span: tuple[int, int], key: str) -> int:
        """The line of ``key = …`` inside ``span``, or 0."""
        pattern = re.compile(
            r"^[ \t]*(?:"
            + re.escape(key)
            + r'|"'
            + re.escape(key)
            + r'"|\''
            + re.escape(key)
            + r"')[ \t]*[=.]",
            re.MULTILINE,
        )
        match = pattern.search(self.text, span[0], span[1])
        return self.line_of(match.start()) if match else 0

    def key_offset(self, span: tuple[int, int], key: str) -> int | None:
        """The offset of ``key = …`` inside ``span``, or None."""
        line = self.key_line(span, key)
        return self._starts[line - 1] if line else None

    def string_offset(self, value: str, start: int, end: int) -> int | None:
        """The offset of the first quoted ``value`` in ``[start, end)``, or None."""
        best: int | None = None
        for form in _quoted_forms(value):
            pos = self.text.find(form, start, end)
            if pos >= 0 and (best is None or pos < best):
                best = pos
        return best


def _quoted_forms(value: str) -> list[str]:
    forms = [json.dumps(value), f"'{value}'"]
    if '"' not in value and "\\" not in value:
        forms.append(f'"{value}"')
    return list(dict.fromkeys(forms))


def package_lines(lines: TomlLines, table: str, names: list[object]) -> list[int]:
    """The line of each ``[[table]]`` entry's ``name = …`` key, matched to decoded entries in order.

    ``names`` are the decoded entries' names; when the header count disagrees with the decoded
    count (an inline array of tables), each name is searched instead.
    """
    headers = lines.tables((table,))
    result: list[int] = []
    if len(headers) == len(names):
        for header in headers:
            line = lines.key_line((header.start, header.end), "name")
            result.append(line or header.line)
        return result
    cursor = 0
    for name in names:
        pos = lines.string_offset(name, cursor, len(lines.text)) if isinstance(name, str) else None
        if pos is None:
            result.append(0)
        else:
            result.append(lines.line_of(pos))
            cursor = pos + 1
    return result


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a table, else an empty one (wrong shapes are reported by callers)."""
    return value if isinstance(value, Mapping) else {}


def str_list(value: object) -> list[str]:
    """The strings of ``value`` if it is a list, else nothing."""
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


@dataclass(frozen=True, slots=True)
class Flags:
    """Direct and dev flags of one package name in a resolved graph."""

    direct: bool | None
    dev: bool | None


def classify(
    graph: Mapping[str, Iterable[str]],
    main_roots: Iterable[str],
    dev_roots: Iterable[str],
) -> dict[str, Flags]:
    """Direct/dev flags for every node reachable from the roots.

    ``graph`` maps a normalised name to the names it depends on. A package reachable from a main
    root is not dev; one reachable only from dev roots is dev. Direct means named by a root.
    Nodes reachable from no root are absent from the result (the caller says None).
    """
    main = _reach(graph, main_roots)
    dev = _reach(graph, dev_roots)
    direct = set(main_roots) | set(dev_roots)
    result: dict[str, Flags] = {}
    for name in main | dev:
        result[name] = Flags(direct=name in direct, dev=name not in main)
    return result


def _reach(graph: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    queue = deque(roots)
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        queue.extend(n for n in graph.get(name, ()) if n not in seen)
    return seen
