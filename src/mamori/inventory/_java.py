"""Maven ``pom.xml`` and Gradle ``gradle.lockfile``.

A ``pom.xml`` is a manifest, not a lockfile: only versions written in the file (literally or
through a ``${property}`` of the same file) are known. Anything else — a version inherited from
a parent POM or a BOM, a range — gives version ``""`` without an error, because guessing would
produce false findings. POMs come from the scanned repository, so the XML is parsed with DTDs
refused (see :func:`mamori.inventory._safe.load_xml`).

Gradle's lockfile lists every resolved module with the configurations that use it; a module
used only by test configurations is a development dependency.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mamori.inventory._common import FileParser, dedupe, make_component
from mamori.inventory._safe import LINE_ATTR, load_xml, read_text
from mamori.inventory.interface import Component, Parser
from mamori.model import ScanError

_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_MAX_EXPANSIONS = 10


def _child_text(element: ET.Element | None, tag: str) -> str:
    if element is None:
        return ""
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _properties(project: ET.Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for container in [project, *project.findall("profiles/profile")]:
        for block in container.findall("properties"):
            for prop in block:
                props.setdefault(prop.tag, (prop.text or "").strip())
    parent = project.find("parent")
    for key in ("version", "groupId", "artifactId"):
        own = _child_text(project, key) or _child_text(parent, key)
        if own:
            props.setdefault(f"project.{key}", own)
            props.setdefault(f"pom.{key}", own)
        if parent is not None and _child_text(parent, key):
            props.setdefault(f"project.parent.{key}", _child_text(parent, key))
    return props


def _resolve(value: str, props: dict[str, str]) -> str:
    """``value`` with ``${…}`` replaced from ``props``; ``""`` if any stays unresolved."""
    for _ in range(_MAX_EXPANSIONS):
        if "${" not in value:
            break
        value = _PROPERTY.sub(lambda m: props.get(m.group(1), m.group(0)), value)
    if "${" in value:
        return ""
    return value


def _exact(version: str) -> str:
    """The version if it is exact; ranges such as ``[1.0,2.0)`` give ``""``."""
    if not version or version[0] in "[(" or "," in version:
        return ""
    return version


def _read_pom(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    project = load_xml(read_text(path), rel)
    errors: list[ScanError] = []
    if project.tag != "project":
        return [], [ScanError(rel, f"not a Maven POM: root element is <{project.tag}>", 1)]
    props = _properties(project)
    containers = [project, *project.findall("profiles/profile")]
    managed: list[ET.Element] = []
    direct: list[ET.Element] = []
    for container in containers:
        managed += container.findall("dependencyManagement/dependencies/dependency")
        direct += container.findall("dependencies/dependency")
    managed_versions: dict[str, str] = {}
    for dep in managed:
        group = _resolve(_child_text(dep, "groupId"), props)
        key = f"{group}:{_resolve(_child_text(dep, 'artifactId'), props)}"
        managed_versions.setdefault(key, _exact(_resolve(_child_text(dep, "version"), props)))
    found: list[Component] = []
    for deps, is_direct in ((direct, True), (managed, None)):
        for dep in deps:
            line = int(dep.get(LINE_ATTR, "0"))
            group = _resolve(_child_text(dep, "groupId"), props)
            artifact = _resolve(_child_text(dep, "artifactId"), props)
            if not group or not artifact:
                errors.append(ScanError(rel, "<dependency> without a groupId and artifactId", line))
                continue
            name = f"{group}:{artifact}"
            written = _child_text(dep, "version")
            version = _exact(_resolve(written, props)) if written else managed_versions.get(name, "")
            found.append(
                make_component(
                    "Maven",
                    name,
                    version,
                    rel,
                    line,
                    source="pom",
                    direct=is_direct,
                    dev=_child_text(dep, "scope") == "test",
                )
            )
    return dedupe(found), errors


def _is_test_configuration(name: str) -> bool:
    return "test" in name.lower()


def _read_gradle_lockfile(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    found: list[Component] = []
    errors: list[ScanError] = []
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        coords, sep, configs = line.partition("=")
        if coords == "empty":
            continue
        if not sep and _is_gradle_lockfile(path):  # Gradle 6: one file per configuration
            sep, configs = "=", path.stem
        parts = coords.split(":")
        if not sep or len(parts) != 3 or not all(parts):
            errors.append(ScanError(rel, "expected 'group:artifact:version=configurations'", number))
            continue
        group, artifact, version = parts
        names = [c for c in configs.split(",") if c]
        found.append(
            make_component(
                "Maven",
                f"{group}:{artifact}",
                version,
                rel,
                number,
                source="gradle-lockfile",
                dev=bool(names) and all(_is_test_configuration(c) for c in names),
            )
        )
    return found, errors


def _is_gradle_lockfile(path: Path) -> bool:
    """``gradle/dependency-locks/<configuration>.lockfile`` (Gradle 6's per-configuration files)."""
    return path.suffix == ".lockfile" and path.parent.name == "dependency-locks"


PARSERS: list[Parser] = [
    FileParser("pom", _read_pom, filenames=frozenset({"pom.xml"})),
    FileParser(
        "gradle-lockfile",
        _read_gradle_lockfile,
        suffixes=("gradle.lockfile",),
        extra_match=_is_gradle_lockfile,
    ),
]
"""The Java parsers."""
