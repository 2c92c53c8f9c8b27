"""Safe loading of JSON, YAML and XML lockfiles, and finding line numbers in them.

Lockfiles come from the repositories being scanned, so they are untrusted input. A YAML alias
bomb ("billion laughs") expands a few hundred bytes into gigabytes once a consumer walks it, a
JSON array nested 100,000 deep overflows recursive decoders, and an XML DOCTYPE can declare
entities that expand the same way or read local files. Every parser reads its file through this
module (its JSON through the shared :mod:`mamori._safejson`), which rejects these shapes quickly with a :class:`~mamori.errors.ParseError` that names
the file and line, instead of hanging or exhausting memory.

JSON and (through :mod:`yaml`'s safe loader) YAML decoders do not say where a value was
declared, so this module also offers linear-time indexes from keys and values to line numbers.
"""

from __future__ import annotations

import bisect
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.parsers import expat

import yaml

from mamori import _safejson
from mamori._yamlguard import YamlRefused, preflight
from mamori.errors import ParseError

MAX_DEPTH = _safejson.MAX_DEPTH
"""Deepest nesting of arrays/objects accepted; real lockfiles and SBOMs stay below 50."""
MAX_JSON_VALUES = _safejson.MAX_JSON_VALUES
BYTES_PER_CONTAINER = _safejson.BYTES_PER_CONTAINER
max_bracket_depth = _safejson.max_bracket_depth
check_json_size = _safejson.check_json_size

MAX_YAML_NODES = 2_000_000
"""Most YAML nodes accepted in one document (counted before it is composed; a composed node
takes about 370 bytes, so this is under a gigabyte; a 20 MB pnpm lockfile has about a million)."""

LINE_ATTR = "{mamori}line"
"""Attribute of every element built by :func:`load_xml`: the 1-based line of its start tag."""

_OBJECT_KEY = re.compile(r'"((?:[^"\\\n]|\\.)*)"\s*:\s*\{', re.MULTILINE)
_LINE_IN_MESSAGE = re.compile(r"line (\d+)")

try:  # libyaml is much faster and bounds nesting itself; the pure-Python loader is the fallback
    _YamlLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.SafeLoader


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a leading byte-order mark dropped)."""
    text = path.read_text(encoding="utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def loads_json(text: str, rel: str) -> Any:
    """Decode JSON ``text`` read from ``rel`` with the shared safe loader
    (:func:`mamori._safejson.loads`: size, depth and density capped; errors carry the line).

    Raises:
        ParseError: on invalid JSON, nesting deeper than :data:`MAX_DEPTH`, or too many values.
    """
    return _safejson.loads(text, rel)


def load_json(path: Path, rel: str | None = None) -> Any:
    """Read and decode the JSON file at ``path`` (see :func:`loads_json`)."""
    return loads_json(read_text(path), rel if rel is not None else path.name)


class YamlDocument:
    """A decoded YAML document with the lines of its mapping keys.

    ``key_lines`` maps key paths (``("packages", "/left-pad/1.3.0")``) up to two levels deep
    to the 1-based line of the key.
    """

    __slots__ = ("data", "key_lines")

    def __init__(self, data: Any, key_lines: dict[tuple[str, ...], int]) -> None:
        self.data = data
        self.key_lines = key_lines

    def line(self, *keys: str) -> int:
        """The line of the key at ``keys``, or 0 when unknown."""
        return self.key_lines.get(tuple(keys), 0)


def loads_yaml(text: str, rel: str) -> YamlDocument:
    """Decode one YAML document safely; aliases are refused, not expanded.

    The document is composed into nodes first (linear in the file size even for an alias
    bomb, because aliases share nodes), then walked once: a node met twice is an alias and
    the file is rejected before anything is constructed.

    Raises:
        ParseError: on invalid YAML, aliases, or nesting deeper than :data:`MAX_DEPTH`.
    """
    depth = max_bracket_depth(text, yaml_quotes=True)
    if depth > MAX_DEPTH:
        raise ParseError(f"YAML nested {depth} deep, over the limit of {MAX_DEPTH}; not parsed", path=rel)
    try:  # judged from the event stream first: nothing is composed for a refused file
        preflight(text, max_nodes=MAX_YAML_NODES, max_depth=MAX_DEPTH)
    except YamlRefused as exc:
        raise ParseError(exc.message, path=rel, line=exc.line or None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ParseError(f"invalid YAML: {exc.problem or exc.context}", path=rel, line=line) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", path=rel) from None
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, {})
        key_lines = _check_nodes(node, rel)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ParseError(f"invalid YAML: {exc.problem or exc.context}", path=rel, line=line) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", path=rel) from None
    except RecursionError:
        raise ParseError("YAML nested too deep to parse", path=rel) from None
    finally:
        loader.dispose()
    return YamlDocument(data, key_lines)


def load_yaml(path: Path, rel: str | None = None) -> YamlDocument:
    """Read and decode the YAML file at ``path`` (see :func:`loads_yaml`)."""
    return loads_yaml(read_text(path), rel if rel is not None else path.name)


def _check_nodes(root: yaml.Node, rel: str) -> dict[tuple[str, ...], int]:
    """Reject aliases and deep nesting; collect the lines of keys two levels deep."""
    seen: set[int] = set()
    key_lines: dict[tuple[str, ...], int] = {}
    stack: list[tuple[yaml.Node, int, tuple[str, ...] | None]] = [(root, 0, ())]
    count = 0
    while stack:
        node, depth, keypath = stack.pop()
        if id(node) in seen:
            raise ParseError(
                "YAML aliases (*name) are not accepted in lockfiles; refusing to expand them",
                path=rel,
                line=node.start_mark.line + 1,
            )
        seen.add(id(node))
        count += 1
        if depth > MAX_DEPTH or count > MAX_YAML_NODES:
            raise ParseError("YAML document too deep or too large", path=rel, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child_path: tuple[str, ...] | None = None
                if keypath is not None and len(keypath) < 2 and isinstance(key, yaml.ScalarNode):
                    child_path = (*keypath, str(key.value))
                    key_lines.setdefault(child_path, key.start_mark.line + 1)
                stack.append((key, depth + 1, None))
                stack.append((value, depth + 1, child_path))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1, None) for item in node.value)
    return key_lines


def toml_error_line(message: str) -> int:
    """The line number in a :class:`tomllib.TOMLDecodeError` message, or 0."""
    found = _LINE_IN_MESSAGE.search(message)
    return int(found.group(1)) if found else 0


def load_xml(text: str, rel: str) -> ET.Element:
    """Parse XML without DTDs: a DOCTYPE or entity declaration is rejected, not processed.

    Each element carries the line of its start tag in the :data:`LINE_ATTR` attribute;
    namespace prefixes are dropped from tag names.

    Raises:
        ParseError: on malformed XML or any DOCTYPE / entity declaration.
    """
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()

    def start(name: str, attrs: dict[str, str]) -> None:
        attrs = dict(attrs)
        attrs[LINE_ATTR] = str(parser.CurrentLineNumber)
        builder.start(name.rsplit(":", 1)[-1], attrs)

    def end(name: str) -> None:
        builder.end(name.rsplit(":", 1)[-1])

    def refuse(*_args: object) -> None:
        raise ParseError(
            "XML with a DOCTYPE or entity declarations is refused (entity expansion attacks)",
            path=rel,
            line=parser.CurrentLineNumber,
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise ParseError(f"invalid XML: {expat.ErrorString(exc.code)}", path=rel, line=exc.lineno) from None
    try:
        return builder.close()
    except (AssertionError, ET.ParseError):  # pragma: no cover - expat already checked balance
        raise ParseError("invalid XML: no root element", path=rel) from None


class LineIndex:
    """Offsets → 1-based line numbers for one text, by binary search over newline offsets."""

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def line_of(self, offset: int) -> int:
        """The 1-based line holding character ``offset``."""
        return bisect.bisect_right(self._starts, offset)

    def lines_of(self, pattern: re.Pattern[str], group: int = 1) -> dict[str, deque[int]]:
        """For each JSON string matched by ``pattern``'s ``group``, the lines where it occurs.

        The group must hold the raw (escaped) content of a JSON string; it is decoded so the
        keys compare with decoded JSON values.
        """
        found: dict[str, deque[int]] = defaultdict(deque)
        for m in pattern.finditer(self.text):
            raw = m.group(group)
            key = json.loads(f'"{raw}"') if "\\" in raw else raw
            found[key].append(self.line_of(m.start(group)))
        return found

    def object_key_lines(self) -> dict[str, deque[int]]:
        """Lines of every ``"key": {`` in a JSON text, per key, in document order."""
        return self.lines_of(_OBJECT_KEY)

    def string_value_lines(self, field: str) -> dict[str, deque[int]]:
        """Lines of every ``"field": "value"`` in a JSON text, per value, in document order."""
        pattern = re.compile(r'"' + re.escape(field) + r'"\s*:\s*"((?:[^"\\\n]|\\.)*)"')
        return self.lines_of(pattern)


def take_line(lines: dict[str, deque[int]], key: str) -> int:
    """Pop the next line recorded for ``key`` (document order), or 0 when none is left."""
    queue = lines.get(key)
    if not queue:
        return 0
    return queue.popleft() if len(queue) > 1 else queue[0]


def first_line(lines: dict[str, deque[int]], key: str) -> int:
    """The first line recorded for ``key``, or 0."""
    queue = lines.get(key)
    return queue[0] if queue else 0


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (lockfile fields of the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def strings(values: Iterable[Any]) -> list[str]:
    """The string items of ``values``."""
    return [v for v in values if isinstance(v, str)]
