"""Python manifests: ``pyproject.toml`` (PEP 621, PEP 735, Poetry, PDM) and ``Pipfile``.

A manifest names what a project asks for, mostly as ranges: such components are reported with
version ``""`` (present, not matchable) so that a project without a lockfile is still inventoried
and its direct dependencies are known. An exact pin (``==1.2``, Poetry's bare ``1.2``) gives a
version. The same data tells lockfile parsers which locked packages are direct and which are
only for development (:func:`project_roots`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from mamori.ecosystems import normalize_name
from mamori.inventory._py_common import (
    ECOSYSTEM,
    TomlLines,
    component,
    load_toml,
    mapping,
    parse_requirement,
    pinned_version,
    read_text,
    requirement_name,
    requirement_range,
    short,
    valid_name,
)
from mamori.inventory.interface import Component, ParseResult
from mamori.model import ScanError

PYPROJECT_SOURCE = "pyproject"
PIPFILE_SOURCE = "pipfile"


@dataclass(frozen=True, slots=True)
class Roots:
    """The direct dependencies a manifest declares: runtime (with optional extras) and dev."""

    project: str | None
    """The project's own normalised name, when the manifest gives it."""
    main: frozenset[str]
    dev: frozenset[str]


class _Out:
    """Components and errors of one manifest, with the text positions to find lines in."""

    def __init__(self, lines: TomlLines, rel: str, source: str) -> None:
        self.lines = lines
        self.rel = rel
        self.source = source
        self.components: list[Component] = []
        self.errors: list[ScanError] = []

    def result(self) -> ParseResult:
        return ParseResult(tuple(self.components), tuple(self.errors))

    def span(self, table: tuple[str, ...], key: str) -> tuple[int, int]:
        """Where the value of ``table.key`` is written: its table from the key on, else the file."""
        end = len(self.lines.text)
        header = self.lines.table(table)
        if header is not None:
            found = self.lines.key_offset((header.start, header.end), key)
            return (found if found is not None else header.start), header.end
        if len(table) > 0:
            parent = self.lines.table(table[:-1]) if len(table) > 1 else None
            parent_span = (parent.start, parent.end) if parent else self.lines.top()
            found = self.lines.key_offset(parent_span, table[-1])
            if found is not None:
                return found, parent_span[1]
        return 0, end

    def pep508_list(
        self,
        values: object,
        table: tuple[str, ...],
        key: str,
        *,
        dev: bool | None,
        what: str,
    ) -> None:
        """Report each PEP 508 string of ``values`` (written at ``table.key``)."""
        start, end = self.span(table, key)
        if not isinstance(values, list):
            self.errors.append(
                ScanError(self.rel, f"{what} should be a list of requirements", self.lines.line_of(start))
            )
            return
        cursor = start
        for value in values:
            if not isinstance(value, str):
                continue  # PEP 735 ``{include-group = …}`` tables and other non-requirements
            pos = self.lines.string_offset(value, cursor, end)
            if pos is None:
                pos = self.lines.string_offset(value, 0, len(self.lines.text))
            else:
                cursor = pos + len(value)
            line = self.lines.line_of(pos if pos is not None else start)
            if value.lstrip().startswith("-e"):
                continue  # PDM editable local path
            req = parse_requirement(value)
            if isinstance(req, str):
                self.errors.append(ScanError(self.rel, f"{what}: {req}", line))
                continue
            self.components.append(
                component(
                    req.name,
                    pinned_version(req),
                    self.rel,
                    line,
                    source=self.source,
                    direct=True,
                    dev=dev,
                    range_spec=requirement_range(req),
                )
            )

    def poetry_table(self, deps: object, table: tuple[str, ...], *, dev: bool) -> None:
        """Report a Poetry dependency table (``name = constraint | {version …} | [ … ]``)."""
        header = self.lines.table(table)
        span = (header.start, header.end) if header else self.span(table, "")
        for name, spec in mapping(deps).items():
            if name.lower() == "python":
                continue
            line = self.lines.key_line(span, name)
            if not line:
                sub = self.lines.table((*table, name))
                line = sub.line if sub else (header.line if header else 0)
            if not valid_name(name):
                self.errors.append(ScanError(self.rel, f"invalid package name {short(name)!r}", line))
                continue
            self.components.append(
                component(
                    name,
                    _poetry_version(spec),
                    self.rel,
                    line,
                    source=self.source,
                    direct=True,
                    dev=dev,
                    range_spec=_poetry_range(spec),
                )
            )


def _poetry_version(spec: object) -> str:
    """The exact version of a Poetry constraint: ``"1.2"`` and ``"==1.2"`` pin, the rest do not."""
    if isinstance(spec, Mapping):
        if any(k in spec for k in ("git", "path", "url", "file")):
            return ""
        spec = spec.get("version", "")
    if not isinstance(spec, str):
        return ""
    text = spec.strip()
    if text.startswith("==") and not text.startswith("==="):
        text = text[2:].strip()
    if "," in text or "*" in text or " " in text:
        return ""
    try:
        Version(text)
    except InvalidVersion:
        return ""
    return text


def _poetry_range(spec: object) -> str:
    """A Poetry constraint as PEP 440 (``^1.2`` → ``>=1.2,<2.0``), or ``""`` when it is not one.

    Poetry's caret and tilde are translated to the ranges Poetry documents; anything else is kept
    only if it is already a PEP 440 specifier.
    """
    if isinstance(spec, Mapping):
        if any(k in spec for k in ("git", "path", "url", "file")):
            return ""
        spec = spec.get("version", "")
    if not isinstance(spec, str):
        return ""
    parts = []
    for raw in spec.replace(" ", "").split(","):
        if raw in ("", "*"):
            continue
        translated = _poetry_clause(raw)
        if translated is None:
            return ""
        parts.append(translated)
    return ",".join(parts) or "*"


def _poetry_clause(text: str) -> str | None:
    """One Poetry clause as PEP 440 (``^``, ``~``, ``*`` wildcards and bare versions)."""
    op = "^" if text.startswith("^") else "~" if text.startswith("~") and not text.startswith("~=") else ""
    body = text[len(op) :]
    if op or body[:1].isdigit():
        nums = body.split(".")
        if not all(n.isdigit() for n in nums) and not (op == "" and _is_version(body)):
            return None
        if op == "":
            return f"=={body}"
        ints = [int(n) for n in nums]
        if op == "^":
            first = next((i for i, n in enumerate(ints) if n != 0), len(ints) - 1)
            upper = [*ints[:first], ints[first] + 1]
        else:
            keep = 1 if len(ints) == 1 else 2
            upper = [*ints[: keep - 1], ints[keep - 1] + 1]
        return f">={body},<{'.'.join(str(n) for n in upper)}"
    req = parse_requirement("x" + text)
    return None if isinstance(req, str) or req.url else str(req.specifier)


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def parse_pyproject(path: Path, rel: str) -> ParseResult:
    """The dependencies a ``pyproject.toml`` declares, in every dialect it may use."""
    text = read_text(path)
    data = load_toml(text, rel)
    if isinstance(data, ScanError):
        return ParseResult(errors=(data,))
    out = _Out(TomlLines(text), rel, PYPROJECT_SOURCE)
    project = mapping(data.get("project"))
    _dynamic_dependencies(path, rel, data, out)
    if "dependencies" in project:
        out.pep508_list(
            project["dependencies"], ("project",), "dependencies", dev=False, what="project.dependencies"
        )
    for group, values in mapping(project.get("optional-dependencies")).items():
        out.pep508_list(
            values,
            ("project", "optional-dependencies"),
            group,
            dev=None,
            what=f"project.optional-dependencies.{group}",
        )
    for group, values in mapping(data.get("dependency-groups")).items():
        out.pep508_list(values, ("dependency-groups",), group, dev=True, what=f"dependency-groups.{group}")
    tool = mapping(data.get("tool"))
    poetry = mapping(tool.get("poetry"))
    if "dependencies" in poetry:
        out.poetry_table(poetry["dependencies"], ("tool", "poetry", "dependencies"), dev=False)
    if "dev-dependencies" in poetry:
        out.poetry_table(poetry["dev-dependencies"], ("tool", "poetry", "dev-dependencies"), dev=True)
    for group, body in mapping(poetry.get("group")).items():
        deps = mapping(body).get("dependencies")
        if deps is not None:
            out.poetry_table(deps, ("tool", "poetry", "group", group, "dependencies"), dev=True)
    pdm = mapping(tool.get("pdm"))
    for group, values in mapping(pdm.get("dev-dependencies")).items():
        out.pep508_list(
            values,
            ("tool", "pdm", "dev-dependencies"),
            group,
            dev=True,
            what=f"tool.pdm.dev-dependencies.{group}",
        )
    return out.result()


def _dynamic_dependencies(path: Path, rel: str, data: Mapping[str, Any], out: _Out) -> None:
    """``dynamic = ["dependencies"]``: the build backend supplies them; say so when nothing here does.

    A ``setup.py`` or ``setup.cfg`` beside it is parsed on its own, and so is a requirements file
    named by ``[tool.setuptools.dynamic]``; anything else is not read, and is an error, so that
    coverage lists it instead of the project looking dependency-free.
    """
    dynamic = mapping(data.get("project")).get("dynamic")
    if not (isinstance(dynamic, list) and "dependencies" in dynamic):
        return
    from mamori.inventory._py_requirements import matches as is_requirements

    spec = mapping(mapping(mapping(data.get("tool")).get("setuptools")).get("dynamic")).get("dependencies")
    files = mapping(spec).get("file")
    names = (
        [files]
        if isinstance(files, str)
        else [f for f in files if isinstance(f, str)]
        if isinstance(files, list)
        else []
    )
    if names:
        unread = [n for n in names if not is_requirements(path.parent / n) or not (path.parent / n).is_file()]
        if not unread:
            return
        why = (
            f"its dependencies come from {', '.join(unread)}, which is not read (not named requirements*.txt)"
        )
    elif (path.parent / "setup.py").is_file() or (path.parent / "setup.cfg").is_file():
        return
    else:
        why = "its dependencies are dynamic (supplied by the build backend) and no setup.py or setup.cfg is beside it"
    out.errors.append(
        ScanError(
            rel,
            f"project.dynamic lists dependencies: {why}; they were not checked (pin them in a lockfile "
            "or requirements file and scan that)",
            out.lines.line_of(_offset(out.lines.text, "dynamic")),
        )
    )


def _offset(text: str, word: str) -> int:
    """Where ``word`` first appears in ``text`` (0 when it does not)."""
    return max(text.find(word), 0)


def pyproject_roots(data: Mapping[str, Any]) -> Roots:
    """The direct runtime and dev dependency names of a decoded ``pyproject.toml``."""
    project = mapping(data.get("project"))
    main: set[str] = set(_names(project.get("dependencies")))
    for values in mapping(project.get("optional-dependencies")).values():
        main.update(_names(values))
    dev: set[str] = set()
    for values in mapping(data.get("dependency-groups")).values():
        dev.update(_names(values))
    tool = mapping(data.get("tool"))
    poetry = mapping(tool.get("poetry"))
    main.update(_keys(poetry.get("dependencies")))
    dev.update(_keys(poetry.get("dev-dependencies")))
    for body in mapping(poetry.get("group")).values():
        dev.update(_keys(mapping(body).get("dependencies")))
    for values in mapping(mapping(tool.get("pdm")).get("dev-dependencies")).values():
        dev.update(_names(values))
    name = project.get("name") or poetry.get("name")
    return Roots(
        project=normalize_name(ECOSYSTEM, name) if isinstance(name, str) else None,
        main=frozenset(main),
        dev=frozenset(dev),
    )


def _names(values: object) -> Iterable[str]:
    if not isinstance(values, list):
        return []
    return [n for n in (requirement_name(v) for v in values) if n is not None]


def _keys(table: object) -> Iterable[str]:
    return [normalize_name(ECOSYSTEM, k) for k in mapping(table) if k.lower() != "python" and valid_name(k)]


def project_roots(directory: Path) -> Roots | None:
    """Roots from the ``pyproject.toml`` beside a lockfile, or None if there is none readable."""
    path = directory / "pyproject.toml"
    try:
        data = load_toml(read_text(path), path.name)
    except (OSError, UnicodeDecodeError):
        return None
    if isinstance(data, ScanError):
        return None
    return pyproject_roots(data)


def pipfile_roots(directory: Path) -> Roots | None:
    """Roots from the ``Pipfile`` beside a ``Pipfile.lock``, or None if there is none readable."""
    path = directory / "Pipfile"
    try:
        data = load_toml(read_text(path), path.name)
    except (OSError, UnicodeDecodeError):
        return None
    if isinstance(data, ScanError):
        return None
    return Roots(
        project=None,
        main=frozenset(_keys(data.get("packages"))),
        dev=frozenset(_keys(data.get("dev-packages"))),
    )


def parse_pipfile(path: Path, rel: str) -> ParseResult:
    """The packages a ``Pipfile`` declares (``[packages]`` and ``[dev-packages]``)."""
    text = read_text(path)
    data = load_toml(text, rel)
    if isinstance(data, ScanError):
        return ParseResult(errors=(data,))
    lines = TomlLines(text)
    components: list[Component] = []
    errors: list[ScanError] = []
    for section, dev in (("packages", False), ("dev-packages", True)):
        header = lines.table((section,))
        span = (header.start, header.end) if header else lines.top()
        for name, spec in mapping(data.get(section)).items():
            line = lines.key_line(span, name) or (header.line if header else 0)
            if not valid_name(name):
                errors.append(ScanError(rel, f"invalid package name {short(name)!r}", line))
                continue
            components.append(
                component(
                    name,
                    _pipfile_version(spec),
                    rel,
                    line,
                    source=PIPFILE_SOURCE,
                    direct=True,
                    dev=dev,
                    range_spec=_pipfile_range(spec),
                )
            )
    return ParseResult(tuple(components), tuple(errors))


def _pipfile_range(spec: object) -> str:
    """A Pipfile constraint as a PEP 440 specifier (``"*"`` for any version)."""
    if isinstance(spec, Mapping):
        if any(k in spec for k in ("git", "path", "file", "hg", "svn", "bzr")):
            return ""
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        return ""
    text = spec.strip()
    if text in ("", "*"):
        return "*"
    req = parse_requirement("x" + text)
    return "" if isinstance(req, str) else str(req.specifier) or "*"


def _pipfile_version(spec: object) -> str:
    if isinstance(spec, Mapping):
        if any(k in spec for k in ("git", "path", "file", "hg", "svn", "bzr")):
            return ""
        spec = spec.get("version", "")
    if not isinstance(spec, str):
        return ""
    req = parse_requirement("x" + spec.strip()) if spec.strip() not in ("", "*") else None
    return "" if req is None or isinstance(req, str) else pinned_version(req)
