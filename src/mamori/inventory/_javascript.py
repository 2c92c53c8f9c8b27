"""npm, Yarn and pnpm lockfiles.

The lockfile, not ``package.json``, says what is installed, so these parsers read lockfiles
(a ``package.json`` is read only when no lockfile is beside it: its ranges, never matched as
versions, let the scan say what it could not check):
``package-lock.json`` / ``npm-shrinkwrap.json`` (lockfile versions 1–3), ``yarn.lock`` (classic
v1 and Berry v2+) and ``pnpm-lock.yaml`` (v5, v6 and v9 layouts). Entries that are not from a
registry (workspace members, ``link:``/``file:`` folders, patches of another entry) are skipped:
they are the project's own code, or listed again under their real identity.

Whether a dependency is direct comes from the lockfile where it records the root's
dependencies (package-lock v2+, pnpm importers), otherwise from the ``package.json`` beside
the lockfile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mamori.errors import ParseError
from mamori.inventory._common import FileParser, dedupe, make_component
from mamori.inventory._safe import (
    LineIndex,
    as_dict,
    load_json,
    load_yaml,
    loads_json,
    read_text,
    take_line,
)
from mamori.inventory.interface import Component, Parser
from mamori.model import ScanError

_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_NON_REGISTRY = ("file:", "link:", "workspace:", "portal:", "patch:", "exec:")


class _RootDeps:
    """The dependencies a ``package.json`` (or lockfile root entry) declares."""

    def __init__(self, manifests: list[dict[str, Any]]) -> None:
        self.prod: dict[str, str] = {}
        self.dev: dict[str, str] = {}
        self.known = bool(manifests)
        for manifest in manifests:
            for field in _DEP_FIELDS:
                target = self.dev if field == "devDependencies" else self.prod
                for name, spec in as_dict(manifest.get(field)).items():
                    if isinstance(spec, str):
                        target.setdefault(name, spec)

    def direct(self, name: str) -> bool | None:
        """True when ``name`` is declared by the root; None when no root is known."""
        if not self.known:
            return None
        return name in self.prod or name in self.dev

    def dev_only(self, name: str) -> bool:
        """True when ``name`` is declared only as a development dependency."""
        return name in self.dev and name not in self.prod


def _sibling_manifest(path: Path) -> _RootDeps:
    """The dependencies of the ``package.json`` beside a lockfile (none if absent or broken)."""
    manifest_path = path.with_name("package.json")
    try:
        data = load_json(manifest_path, "package.json")
    except (OSError, ParseError, UnicodeDecodeError):
        return _RootDeps([])
    return _RootDeps([data] if isinstance(data, dict) else [])


def _registry_version(version: str) -> str:
    """The version if it names a registry release, else ``""`` (git URLs, tarballs, folders)."""
    if not version or ":" in version or "/" in version:
        return ""
    return version


# --- package-lock.json / npm-shrinkwrap.json -----------------------------------------------


def _read_package_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    text = read_text(path)
    data = loads_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("not an npm lockfile: the top level is not an object", path=rel, line=1)
    lines = LineIndex(text).object_key_lines()
    packages = data.get("packages")
    if isinstance(packages, dict):
        return _package_lock_v2(packages, lines, rel), []
    return _package_lock_v1(as_dict(data.get("dependencies")), lines, rel, _sibling_manifest(path)), []


def _package_lock_v2(packages: dict[str, Any], lines: dict[str, Any], rel: str) -> list[Component]:
    manifests = [as_dict(packages.get(""))]
    manifests += [as_dict(v) for k, v in packages.items() if k and "node_modules/" not in f"/{k}"]
    root = _RootDeps(manifests)
    found: list[Component] = []
    for key, entry in packages.items():
        if not isinstance(entry, dict) or "node_modules/" not in f"/{key}" or entry.get("link"):
            continue
        line = take_line(lines, key)
        installed_as = key.rsplit("node_modules/", 1)[1]
        name = entry.get("name") if isinstance(entry.get("name"), str) else installed_as
        version = entry.get("version")
        if not isinstance(version, str) or not name:
            continue
        top_level = key == f"node_modules/{installed_as}"
        direct = bool(top_level and root.direct(installed_as))
        found.append(
            make_component(
                "npm",
                str(name),
                _registry_version(version),
                rel,
                line,
                source="package-lock",
                direct=direct,
                dev=bool(entry.get("dev")),
            )
        )
    return found


def _package_lock_v1(
    deps: dict[str, Any], lines: dict[str, Any], rel: str, root: _RootDeps
) -> list[Component]:
    found: list[Component] = []
    stack: list[tuple[str, Any, bool]] = [(k, v, True) for k, v in reversed(deps.items())]
    while stack:  # pre-order, in document order, so line lookups consume keys in text order
        name, entry, top_level = stack.pop()
        if not isinstance(entry, dict):
            continue
        line = take_line(lines, name)
        nested = as_dict(entry.get("dependencies"))
        stack.extend((k, v, False) for k, v in reversed(nested.items()))
        version = entry.get("version")
        if not isinstance(version, str):
            continue
        real_name = name
        if version.startswith("npm:"):  # an alias: "npm:real-name@1.2.3"
            real_name, _, version = version[4:].rpartition("@")
        if version.startswith(("file:", "link:")):
            continue
        direct = root.direct(name) if top_level else False
        found.append(
            make_component(
                "npm",
                real_name,
                _registry_version(version),
                rel,
                line,
                source="package-lock",
                direct=direct if root.known or not top_level else None,
                dev=bool(entry.get("dev")),
            )
        )
    return found


# --- yarn.lock --------------------------------------------------------------------------------


def _split_spec(spec: str) -> tuple[str, str]:
    """``@scope/name@^1.0`` → (``@scope/name``, ``^1.0``)."""
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


def _yarn_flags(name: str, specs: list[str], root: _RootDeps) -> tuple[bool | None, bool | None]:
    """(direct, dev) of a yarn entry from the ``package.json`` beside the lockfile."""
    if not root.known:
        return None, None
    wanted = root.prod.get(name) or root.dev.get(name)
    if wanted is None:
        return False, None
    wanted = wanted.removeprefix("npm:")
    direct = any(_split_spec(s)[1].removeprefix("npm:") == wanted for s in specs if _split_spec(s)[0] == name)
    return direct, (root.dev_only(name) if direct else None)


def _read_yarn_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    text = read_text(path)
    root = _sibling_manifest(path)
    head = text[:4096]
    if re.search(r"^__metadata:", head, re.MULTILINE):
        return _yarn_berry(path, rel, root), []
    return _yarn_classic(text, rel, root)


def _yarn_classic(text: str, rel: str, root: _RootDeps) -> tuple[list[Component], list[ScanError]]:
    found: list[Component] = []
    errors: list[ScanError] = []
    specs: list[str] = []
    header_line = 0
    version: str | None = None

    def flush() -> None:
        if not specs:
            return
        name, rng = _split_spec(specs[0])
        declared_as = name
        if rng.startswith(_NON_REGISTRY):
            return
        if rng.startswith("npm:"):  # an alias: "alias@npm:real@^1"
            name, rng = _split_spec(rng[4:])
        if version is None:
            errors.append(ScanError(rel, f"entry {specs[0]!r} has no version", header_line))
            return
        registry = not re.match(r"^[a-z+]+:|.*://|^[^@/]+/[^@/]+(#.*)?$", rng)
        direct, dev = _yarn_flags(declared_as, specs, root)
        found.append(
            make_component(
                "npm",
                name,
                version if registry else "",
                rel,
                header_line,
                source="yarn-lock",
                direct=direct,
                dev=dev,
            )
        )

    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            flush()
            if not raw.rstrip().endswith(":"):
                errors.append(ScanError(rel, "expected an entry header ending with ':'", number))
                specs = []
                continue
            specs = [s.strip().strip('"') for s in raw.rstrip()[:-1].split(",") if s.strip()]
            header_line, version = number, None
            continue
        stripped = raw.strip()
        if raw.startswith("  ") and not raw.startswith("   ") and stripped.startswith("version "):
            version = stripped[len("version ") :].strip().strip('"')
    flush()
    return found, errors


def _yarn_berry(path: Path, rel: str, root: _RootDeps) -> list[Component]:
    doc = load_yaml(path, rel)
    found: list[Component] = []
    for key, entry in as_dict(doc.data).items():
        if key == "__metadata" or not isinstance(entry, dict):
            continue
        resolution = entry.get("resolution")
        if not isinstance(resolution, str):
            continue
        name, ref = _split_spec(resolution)
        if not ref.startswith("npm:"):  # workspace:, link:, portal:, patch:, file: …
            continue
        version = ref[4:]
        specs = [s.strip().replace("@npm:", "@", 1) for s in str(key).split(",")]
        direct, dev = _yarn_flags(_split_spec(specs[0])[0], specs, root)
        found.append(
            make_component(
                "npm",
                name,
                version,
                rel,
                doc.line(str(key)),
                source="yarn-lock",
                direct=direct,
                dev=dev,
            )
        )
    return found


# --- pnpm-lock.yaml ---------------------------------------------------------------------------


def _pnpm_major(data: dict[str, Any]) -> int:
    raw = str(data.get("lockfileVersion", "5")).strip("'\"")
    try:
        return int(float(raw))
    except ValueError:
        return 5


def _pnpm_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) of a pnpm package key, or None for non-registry entries.

    v5: ``/name/1.0.0_peer@2.0.0``; v6: ``/name@1.0.0(peer@2.0.0)``; v9: ``name@1.0.0(…)``.
    """
    key = key.split("(", 1)[0]
    if key.startswith("/"):
        key = key[1:]
    elif major < 9:
        return None  # e.g. "github.com/user/repo/sha" or "registry.example.com/foo/1.0.0"
    if major < 6:
        name, _, version = key.rpartition("/")
        version = version.split("_", 1)[0]
    else:
        name, _, version = key.rpartition("@")
    if not name or not version or version.startswith(_NON_REGISTRY) or ":" in version:
        return None
    return name, version


def _pnpm_dep_ref(name: str, value: Any, major: int) -> tuple[str, str] | None:
    """The (name, version) an importer's or snapshot's dependency entry resolves to."""
    if isinstance(value, dict):
        value = value.get("version")
    if not isinstance(value, str) or value.startswith(_NON_REGISTRY):
        return None
    if value.startswith("/") or (major >= 9 and "@" in value.split("(", 1)[0][1:]):
        return _pnpm_key(value, major)  # an alias: "/real/1.0.0", "/real@1.0.0", "real@1.0.0"
    version = value.split("(", 1)[0]
    return name, (version.split("_", 1)[0] if major < 6 else version)


def _read_pnpm_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    doc = load_yaml(path, rel)
    data = as_dict(doc.data)
    if not data:
        raise ParseError("not a pnpm lockfile: the top level is not a mapping", path=rel, line=1)
    major = _pnpm_major(data)
    importers = as_dict(data.get("importers")) or {".": data}
    prod_roots: set[tuple[str, str]] = set()
    dev_roots: set[tuple[str, str]] = set()
    for importer in importers.values():
        for field in ("dependencies", "optionalDependencies", "devDependencies"):
            for dep_name, value in as_dict(as_dict(importer).get(field)).items():
                ref = _pnpm_dep_ref(str(dep_name), value, major)
                if ref is not None:
                    (dev_roots if field == "devDependencies" else prod_roots).add(ref)
    direct_refs = prod_roots | dev_roots
    reach_prod: set[tuple[str, str]] = set()
    reach_dev: set[tuple[str, str]] = set()
    if major >= 9:
        graph = _pnpm_graph(as_dict(data.get("snapshots")), major)
        reach_prod = _reachable(graph, prod_roots)
        reach_dev = _reachable(graph, dev_roots)
    found: list[Component] = []
    for key, entry in as_dict(data.get("packages")).items():
        parsed = _pnpm_key(str(key), major)
        if parsed is None:
            continue
        name, version = parsed
        entry = as_dict(entry)
        dev: bool | None
        if "dev" in entry and isinstance(entry["dev"], bool):
            dev = entry["dev"]
        elif major >= 9 and (parsed in reach_prod or parsed in reach_dev):
            dev = parsed not in reach_prod
        else:
            dev = None
        found.append(
            make_component(
                "npm",
                name,
                version,
                rel,
                doc.line("packages", str(key)),
                source="pnpm-lock",
                direct=parsed in direct_refs,
                dev=dev,
            )
        )
    return dedupe(found), []


def _pnpm_graph(snapshots: dict[str, Any], major: int) -> dict[tuple[str, str], set[tuple[str, str]]]:
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for key, entry in snapshots.items():
        parsed = _pnpm_key(str(key), major)
        if parsed is None:
            continue
        edges = graph.setdefault(parsed, set())
        for field in ("dependencies", "optionalDependencies"):
            for dep_name, value in as_dict(as_dict(entry).get(field)).items():
                ref = _pnpm_dep_ref(str(dep_name), value, major)
                if ref is not None:
                    edges.add(ref)
    return graph


def _reachable(
    graph: dict[tuple[str, str], set[tuple[str, str]]], roots: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    seen = set(roots)
    todo = list(roots)
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --- package.json without a lockfile ----------------------------------------------------

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
"""Lockfiles whose presence beside a ``package.json`` makes the manifest's ranges redundant."""
_ANY_KEY = re.compile(r'"((?:[^"\\\n]|\\.)*)"\s*:')
_EXACT_SEMVER = re.compile(r"^=?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")


def _read_package_json(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    """A ``package.json`` with no lockfile beside it: its direct dependencies, as ranges.

    With a lockfile the lockfile says what is installed and the manifest adds nothing. Without
    one, each dependency is inventoried with its range (``^4.17.0``) and no version, so that the
    scan can say it was not checked and how to make a lockfile, instead of reporting nothing.
    An exact version (``4.16.0``) is what npm installs for a direct dependency and is matched.
    """
    if any(path.with_name(lock).exists() for lock in LOCKFILES):
        return [], []
    text = read_text(path)
    data = loads_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("not a package.json: the top level is not an object", path=rel, line=1)
    lines = LineIndex(text).lines_of(_ANY_KEY)
    found: list[Component] = []
    for field in _DEP_FIELDS:
        for name, spec in as_dict(data.get(field)).items():
            if not isinstance(spec, str) or not name or spec.startswith(_NON_REGISTRY) or "/" in spec:
                continue  # folders, workspaces, git and tarball URLs are not registry releases
            exact = _EXACT_SEMVER.match(spec.strip())
            found.append(
                make_component(
                    "npm",
                    name,
                    exact.group(1) if exact else "",
                    rel,
                    take_line(lines, name),
                    source="package-json",
                    direct=True,
                    dev=field == "devDependencies",
                    range_spec=spec.strip() or "*",
                )
            )
    return dedupe(found), []


PARSERS: list[Parser] = [
    FileParser(
        "package-lock",
        _read_package_lock,
        filenames=frozenset({"package-lock.json", "npm-shrinkwrap.json"}),
    ),
    FileParser("yarn-lock", _read_yarn_lock, filenames=frozenset({"yarn.lock"})),
    FileParser("pnpm-lock", _read_pnpm_lock, filenames=frozenset({"pnpm-lock.yaml"})),
    FileParser("package-json", _read_package_json, filenames=frozenset({"package.json"})),
]
"""The JavaScript parsers, in the registry's order."""
