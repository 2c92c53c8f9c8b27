"""Python lockfiles: ``poetry.lock``, ``uv.lock``, ``pdm.lock``, ``pylock.toml`` and ``Pipfile.lock``.

A lockfile says exactly which versions get installed, so its components are the ones that match
advisories. Each format marks development dependencies its own way (Poetry's ``category`` or
``groups``, PDM's ``groups``, uv's ``dev-dependencies`` of the workspace members, Pipfile.lock's
``develop`` section); where the lock only records the graph, direct and dev flags are derived
from the graph and the roots in the project's own manifest (:func:`classify`). Locally built
packages (VCS checkouts, directories) get version ``""``: their version is not a PyPI release.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from mamori.ecosystems import normalize_name
from mamori.inventory._py_common import (
    ECOSYSTEM,
    Flags,
    TomlLines,
    classify,
    component,
    load_json,
    load_toml,
    mapping,
    package_lines,
    read_text,
    requirement_name,
    short,
    str_list,
    valid_name,
)
from mamori.inventory._py_manifests import Roots, pipfile_roots, project_roots
from mamori.inventory.interface import Component, ParseResult
from mamori.model import ScanError


@dataclass(frozen=True, slots=True)
class _Entry:
    """One decoded ``[[package]]`` entry with the line of its ``name`` key."""

    name: str
    version: str
    line: int
    body: Mapping[str, Any]


def _entries(
    path: Path, rel: str, table: str
) -> tuple[list[_Entry], dict[str, Any], list[ScanError]] | ScanError:
    """The ``[[table]]`` entries of a TOML lock, with their lines; bad entries become errors."""
    text = read_text(path)
    data = load_toml(text, rel)
    if isinstance(data, ScanError):
        return data
    raw = data.get(table, [])
    if not isinstance(raw, list):
        lines = TomlLines(text)
        return ScanError(rel, f"{table!r} should be an array of tables", lines.key_line(lines.top(), table))
    lines = TomlLines(text)
    where = package_lines(lines, table, [mapping(p).get("name") for p in raw])
    entries: list[_Entry] = []
    errors: list[ScanError] = []
    for body, line in zip(raw, where, strict=True):
        if not isinstance(body, Mapping):
            errors.append(ScanError(rel, f"{table} entry is not a table", line))
            continue
        name = body.get("name")
        if not valid_name(name):
            errors.append(ScanError(rel, f"{table} entry has no valid name: {short(repr(name))}", line))
            continue
        version = body.get("version", "")
        if not isinstance(version, str):
            errors.append(ScanError(rel, f"{name}: version should be a string", line))
            version = ""
        assert isinstance(name, str)
        entries.append(_Entry(name, version, line, body))
    return entries, data, errors


def _flags(name: str, computed: Mapping[str, Flags], roots: Roots | None) -> Flags:
    norm = normalize_name(ECOSYSTEM, name)
    if norm in computed:
        return computed[norm]
    if roots is not None and (norm in roots.main or norm in roots.dev):
        return Flags(direct=True, dev=norm not in roots.main)
    return Flags(direct=None, dev=None)


def parse_poetry(path: Path, rel: str) -> ParseResult:
    """``poetry.lock``: ``category`` (lock 1.x) or ``groups`` (2.1) say dev; the graph says the rest."""
    found = _entries(path, rel, "package")
    if isinstance(found, ScanError):
        return ParseResult(errors=(found,))
    entries, _data, errors = found
    roots = project_roots(path.parent)
    graph = {
        normalize_name(ECOSYSTEM, e.name): [
            normalize_name(ECOSYSTEM, d) for d in mapping(e.body.get("dependencies"))
        ]
        for e in entries
    }
    computed = classify(graph, roots.main, roots.dev) if roots else {}
    components: list[Component] = []
    for entry in entries:
        flags = _flags(entry.name, computed, roots)
        dev = flags.dev
        category = entry.body.get("category")
        groups = str_list(entry.body.get("groups"))
        if category in ("main", "dev"):
            dev = category == "dev"
        elif groups:
            dev = "main" not in groups
        source_type = mapping(entry.body.get("source")).get("type")
        version = "" if source_type in ("git", "directory") else entry.version
        components.append(
            component(
                entry.name, version, rel, entry.line, source="poetry-lock", direct=flags.direct, dev=dev
            )
        )
    return ParseResult(tuple(components), tuple(errors))


def parse_uv(path: Path, rel: str) -> ParseResult:
    """``uv.lock``: workspace members are the roots; their dev-dependencies make dev packages."""
    found = _entries(path, rel, "package")
    if isinstance(found, ScanError):
        return ParseResult(errors=(found,))
    entries, data, errors = found
    members = {normalize_name(ECOSYSTEM, m) for m in str_list(mapping(data.get("manifest")).get("members"))}
    if not members:
        members = {
            normalize_name(ECOSYSTEM, e.name)
            for e in entries
            if mapping(e.body.get("source")).get("editable") == "."
            or mapping(e.body.get("source")).get("virtual") == "."
        }
    graph: dict[str, list[str]] = {}
    main_roots: set[str] = set()
    dev_roots: set[str] = set()
    for entry in entries:
        norm = normalize_name(ECOSYSTEM, entry.name)
        deps = _uv_names(entry.body.get("dependencies"))
        for extra in mapping(entry.body.get("optional-dependencies")).values():
            deps.extend(_uv_names(extra))
        graph.setdefault(norm, []).extend(deps)
        if norm in members:
            main_roots.update(deps)
            for group in mapping(entry.body.get("dev-dependencies")).values():
                dev_roots.update(_uv_names(group))
    computed = classify(graph, main_roots - members, dev_roots - members) if members else {}
    roots = None if members else project_roots(path.parent)
    components: list[Component] = []
    for entry in entries:
        norm = normalize_name(ECOSYSTEM, entry.name)
        if norm in members:
            continue  # the project itself
        source = mapping(entry.body.get("source"))
        local = any(k in source for k in ("git", "path", "directory", "editable", "virtual"))
        flags = _flags(entry.name, computed, roots)
        components.append(
            component(
                entry.name,
                "" if local else entry.version,
                rel,
                entry.line,
                source="uv-lock",
                direct=flags.direct,
                dev=flags.dev,
            )
        )
    return ParseResult(tuple(components), tuple(errors))


def _uv_names(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    names = [mapping(d).get("name") for d in value]
    return [normalize_name(ECOSYSTEM, n) for n in names if isinstance(n, str) and valid_name(n)]


def parse_pdm(path: Path, rel: str) -> ParseResult:
    """``pdm.lock``: each package's ``groups`` say dev (``default`` is the runtime group)."""
    found = _entries(path, rel, "package")
    if isinstance(found, ScanError):
        return ParseResult(errors=(found,))
    entries, _data, errors = found
    roots = project_roots(path.parent)
    graph: dict[str, list[str]] = {}
    for entry in entries:
        deps = [n for n in (requirement_name(d) for d in str_list(entry.body.get("dependencies"))) if n]
        graph.setdefault(normalize_name(ECOSYSTEM, entry.name), []).extend(deps)
    computed = classify(graph, roots.main, roots.dev) if roots else {}
    components: list[Component] = []
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        local = any(k in entry.body for k in ("git", "path", "editable"))
        version = "" if local else entry.version
        key = (normalize_name(ECOSYSTEM, entry.name), version)
        if key in seen:
            continue  # the same package again, locked with extras
        seen.add(key)
        flags = _flags(entry.name, computed, roots)
        groups = str_list(entry.body.get("groups"))
        dev = ("default" not in groups) if groups else flags.dev
        components.append(
            component(entry.name, version, rel, entry.line, source="pdm-lock", direct=flags.direct, dev=dev)
        )
    return ParseResult(tuple(components), tuple(errors))


def parse_pylock(path: Path, rel: str) -> ParseResult:
    """PEP 751 ``pylock.toml`` / ``pylock.<name>.toml``: ``[[packages]]`` with optional graph."""
    found = _entries(path, rel, "packages")
    if isinstance(found, ScanError):
        return ParseResult(errors=(found,))
    entries, data, errors = found
    lock_version = data.get("lock-version")
    if not isinstance(lock_version, str):
        errors.append(ScanError(rel, "not a PEP 751 lock: no lock-version", 0))
    roots = project_roots(path.parent)
    graph: dict[str, list[str]] = {}
    for entry in entries:
        deps = _uv_names(entry.body.get("dependencies"))
        pdm_deps = str_list(mapping(mapping(entry.body.get("tool")).get("pdm")).get("dependencies"))
        deps.extend(n for n in (requirement_name(d) for d in pdm_deps) if n)
        graph.setdefault(normalize_name(ECOSYSTEM, entry.name), []).extend(deps)
    has_graph = any(graph.values())
    computed = classify(graph, roots.main, roots.dev) if roots and has_graph else {}
    declared_groups = str_list(data.get("dependency-groups"))
    default_groups = set(str_list(data.get("default-groups")))
    components: list[Component] = []
    for entry in entries:
        norm = normalize_name(ECOSYSTEM, entry.name)
        if roots is not None and norm == roots.project and "directory" in entry.body:
            continue  # the project itself
        local = "vcs" in entry.body or "directory" in entry.body
        flags = _flags(entry.name, computed, roots)
        if roots is not None and not has_graph and flags.direct is None:
            flags = Flags(direct=False, dev=None)
        if declared_groups:
            flags = Flags(flags.direct, _pylock_dev(entry.body.get("marker"), default_groups, flags.dev))
        components.append(
            component(
                entry.name,
                "" if local else entry.version,
                rel,
                entry.line,
                source="pylock",
                direct=flags.direct,
                dev=flags.dev,
            )
        )
    return ParseResult(tuple(components), tuple(errors))


_GROUP_RE = re.compile(r"""["']([^"']+)["']\s+in\s+dependency_groups""")


def _pylock_dev(marker: object, default_groups: set[str], fallback: bool | None) -> bool | None:
    """Dev when the entry's marker selects it only for dependency groups that are not default.

    Lockers (PDM, uv) write ``"dev" in dependency_groups`` markers; an entry with no group
    condition is installed for every group, so it is not dev.
    """
    if not isinstance(marker, str) or "dependency_groups" not in marker:
        return False if isinstance(marker, str) or marker is None else fallback
    groups = set(_GROUP_RE.findall(marker))
    if not groups:
        return fallback
    return not (groups & default_groups)


def parse_pipfile_lock(path: Path, rel: str) -> ParseResult:
    """``Pipfile.lock`` (JSON): ``default`` is runtime, ``develop`` is dev; the Pipfile says direct."""
    text = read_text(path)
    data = load_json(text, rel)
    if isinstance(data, ScanError):
        return ParseResult(errors=(data,))
    if not isinstance(data, Mapping):
        return ParseResult(errors=(ScanError(rel, "Pipfile.lock should be a JSON object", 1),))
    roots = pipfile_roots(path.parent)
    starts = _line_starts(text)
    components: list[Component] = []
    errors: list[ScanError] = []
    for section, dev in (("default", False), ("develop", True)):
        packages = data.get(section, {})
        section_at = _json_key(text, section, 0, len(text))
        start = section_at if section_at is not None else 0
        end = _section_end(text, start)
        if not isinstance(packages, Mapping):
            errors.append(ScanError(rel, f"{section!r} should be an object", _line(starts, start)))
            continue
        for name, body in packages.items():
            at = _json_key(text, name, start, end)
            line = _line(starts, at) if at is not None else 0
            if not valid_name(name):
                errors.append(ScanError(rel, f"invalid package name {short(name)!r}", line))
                continue
            version = _pipfile_lock_version(body)
            direct: bool | None = None
            if roots is not None:
                direct = normalize_name(ECOSYSTEM, name) in (roots.main | roots.dev)
            components.append(
                component(name, version, rel, line, source="pipfile-lock", direct=direct, dev=dev)
            )
    return ParseResult(tuple(components), tuple(errors))


def _pipfile_lock_version(body: object) -> str:
    body = mapping(body)
    if any(k in body for k in ("git", "path", "file", "editable", "hg", "svn", "bzr")):
        return ""
    version = body.get("version")
    if not isinstance(version, str) or not version.startswith("=="):
        return ""
    text = version.lstrip("=").strip()
    try:
        Version(text)
    except InvalidVersion:
        return text if version.startswith("===") else ""
    return text


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _line(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset)


def _json_key(text: str, key: str, start: int, end: int) -> int | None:
    match = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, start, end)
    return match.start() if match else None


def _section_end(text: str, start: int) -> int:
    """The offset of the ``}`` closing the object that follows ``start`` (or the text's end)."""
    brace = text.find("{", start)
    if brace < 0:
        return len(text)
    depth = 0
    in_string = False
    escaped = False
    for i in range(brace, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)
