"""OSV records: load them safely from JSON or YAML and turn them into :class:`Advisory` values.

Advisories come from many databases (osv.dev exports, the PyPA advisory database, GitHub's,
Go's, RustSec …) and each fills a different subset of the OSV schema
(https://ossf.github.io/osv-schema/). Parsing is therefore tolerant: only ``id`` is required;
every other field may be missing or of the wrong type and is then simply left empty, so one odd
field never loses an advisory.

Loading is defensive because advisory files are input from the network: documents are size
capped before parsing, and YAML is read with a safe loader that refuses anchors and aliases (an
"alias bomb" of nested references would otherwise expand without end once the record is walked)
and keeps timestamps and numbers as the text they were written as (``versions: [1.10]`` must stay
``"1.10"``, not become the float ``1.1``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from mamori import _safejson
from mamori._yamlguard import YamlRefused, preflight
from mamori.advisories.interface import Advisory, Affected, AffectedRange, RangeEvent
from mamori.errors import ParseError

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "load_json",
    "load_yaml",
    "parse_advisory",
    "parse_timestamp",
]

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""The largest JSON or YAML document read (real OSV records stay well under a megabyte)."""
MAX_YAML_NODES = 1_000_000
"""Most nodes in one advisory YAML (the largest OSV records hold a few thousand); counted
before the document is composed."""
MAX_YAML_DEPTH = 64
"""Deepest nesting in one advisory YAML (OSV records stay below 10)."""

_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_GHSA_SEVERITY = {"moderate": "medium"}

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _OsvYamlLoader(_BaseLoader):
    """A safe loader that keeps timestamps and numbers as text (OSV has no numeric fields)."""


def _as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


for _tag in ("timestamp", "int", "float"):
    _OsvYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _as_text)


def _check_no_alias(root: yaml.Node) -> None:
    """Refuse a node graph in which any node is reached twice: that is an alias."""
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            mark = node.start_mark
            raise yaml.MarkedYAMLError(
                problem="YAML anchors and aliases are not accepted in advisories", problem_mark=mark
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)


def _too_big(data: bytes | str, name: str) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ParseError(
            f"document of {len(data)} bytes is larger than the limit of {MAX_DOCUMENT_BYTES}", path=name
        )


def load_yaml(data: bytes | str, name: str) -> Any:
    """Load one YAML document safely; bad YAML raises :class:`ParseError` with the 1-based line."""
    _too_big(data, name)
    try:
        preflight(data, max_nodes=MAX_YAML_NODES, max_depth=MAX_YAML_DEPTH)  # before composing
        loader = _OsvYamlLoader(data)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_no_alias(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except YamlRefused as exc:
        raise ParseError(exc.message, path=name, line=exc.line or None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ParseError(f"invalid YAML: {exc.problem or exc}", path=name, line=line) from exc
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"invalid YAML: {exc}", path=name) from exc


def load_json(data: bytes | str, name: str) -> Any:
    """Load one JSON document; bad JSON raises :class:`ParseError` with the 1-based line."""
    return _safejson.loads(data, name, max_bytes=MAX_DOCUMENT_BYTES)


def parse_timestamp(value: str) -> datetime | None:
    """An RFC 3339 time of an OSV record as an aware UTC datetime, or None if it is not one."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _scalar(value: Any) -> str:
    """A version written as a JSON number (``"fixed": 2.31``) is still a version."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any, convert: Callable[[Any], str] = _str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for item in _list(value):
        text = convert(item).strip()
        if text:
            out[text] = None
    return tuple(out)


def _severity_pairs(value: Any) -> Iterator[tuple[str, str]]:
    for item in _list(value):
        entry = _dict(item)
        kind, score = _str(entry.get("type")).strip(), _str(entry.get("score")).strip()
        if kind and score:
            yield kind, score


def _ranges(value: Any) -> tuple[AffectedRange, ...]:
    out: list[AffectedRange] = []
    for item in _list(value):
        entry = _dict(item)
        events: list[RangeEvent] = []
        for raw in _list(entry.get("events")):
            event = _dict(raw)
            for kind in _EVENT_KINDS:
                if kind in event:
                    events.append(RangeEvent(kind, _scalar(event[kind]).strip()))
        rtype = _str(entry.get("type")).strip().upper()
        if rtype or events:
            out.append(AffectedRange(rtype, tuple(events)))
    return tuple(out)


def _functions(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """Affected symbols wherever the databases put them (Go imports, RustSec affects, lists)."""
    found: list[str] = []
    for section_name in ("ecosystem_specific", "database_specific"):
        section = _dict(entry.get(section_name))
        found.extend(_strings(section.get("affected_functions")))
        found.extend(_strings(section.get("functions")))
        found.extend(_strings(_dict(section.get("affects")).get("functions")))
        for imp in _list(section.get("imports")):
            imp_d = _dict(imp)
            path = _str(imp_d.get("path")).strip()
            symbols = _strings(imp_d.get("symbols"))
            if symbols:
                found.extend(f"{path}.{sym}" if path else sym for sym in symbols)
            elif path:
                found.append(path)
    return tuple(dict.fromkeys(found))


def _affected(value: Any) -> tuple[Affected, ...]:
    out: list[Affected] = []
    for item in _list(value):
        entry = _dict(item)
        package = _dict(entry.get("package"))
        ecosystem = _str(package.get("ecosystem")).strip()
        name = _str(package.get("name")).strip()
        purl = _str(package.get("purl")).strip()
        ranges = _ranges(entry.get("ranges"))
        versions = _strings(entry.get("versions"), _scalar)
        if not (ecosystem or name or purl or ranges or versions):
            continue
        out.append(
            Affected(
                ecosystem=ecosystem,
                name=name,
                purl=purl,
                ranges=ranges,
                versions=versions,
                functions=_functions(entry),
            )
        )
    return tuple(out)


def _cwes(record: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    specific = _dict(record.get("database_specific"))
    for key in ("cwe_ids", "cwes", "cwe"):
        raw = specific.get(key)
        items = [raw] if isinstance(raw, str) else _list(raw)
        for item in items:
            text = _str(_dict(item).get("cweId") if isinstance(item, Mapping) else item).strip()
            if text:
                found.append(text.upper() if text.upper().startswith("CWE-") else f"CWE-{text}")
    return tuple(dict.fromkeys(found))


def parse_advisory(record: Any) -> Advisory:
    """An OSV record (a decoded JSON/YAML mapping) as an :class:`Advisory`.

    Only ``id`` is required (:class:`ValueError` without it); any other field that is missing or
    has the wrong type is left empty. Per-package ``affected[].severity`` entries are merged
    after the record's own ``severity``. GHSA's ``moderate`` severity is reported as ``medium``.
    """
    if not isinstance(record, Mapping):
        raise ValueError("an OSV record must be a mapping")
    advisory_id = _str(record.get("id")).strip()
    if not advisory_id:
        raise ValueError("OSV record without an 'id'")
    affected_raw = _list(record.get("affected"))
    severity = list(_severity_pairs(record.get("severity")))
    for entry in affected_raw:
        for pair in _severity_pairs(_dict(entry).get("severity")):
            if pair not in severity:
                severity.append(pair)
    db_sev = _str(_dict(record.get("database_specific")).get("severity")).strip().lower()
    references: list[str] = []
    for ref in _list(record.get("references")):
        url = _str(_dict(ref).get("url")).strip()
        if url and url not in references:
            references.append(url)
    return Advisory(
        id=advisory_id,
        modified=_str(record.get("modified")).strip(),
        published=_str(record.get("published")).strip(),
        withdrawn=_str(record.get("withdrawn")).strip(),
        aliases=tuple(a for a in _strings(record.get("aliases")) if a != advisory_id),
        related=_strings(record.get("related")),
        summary=_str(record.get("summary")).strip(),
        details=_str(record.get("details")),
        severity=tuple(severity),
        database_severity=_GHSA_SEVERITY.get(db_sev, db_sev),
        cwes=_cwes(record),
        references=tuple(references),
        affected=_affected(affected_raw),
    )
