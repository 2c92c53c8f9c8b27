"""Lockfiles of Go, Rust, Ruby, PHP and .NET (Java lives in :mod:`._java`).

Each format is read with its real grammar — ``go.mod`` directives, TOML for ``Cargo.lock``,
Bundler's indentation-based ``Gemfile.lock``, JSON for ``composer.lock`` and
``packages.lock.json`` — and only registry packages become components: the workspace's own
crates, local ``replace`` targets and ``PATH``/``GIT`` gems are the project's code, not
something an advisory database can know about.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from mamori.errors import ParseError
from mamori.inventory._common import FileParser, dedupe, make_component
from mamori.inventory._java import PARSERS as _JAVA_PARSERS
from mamori.inventory._safe import (
    LineIndex,
    as_dict,
    as_list,
    load_json,
    loads_json,
    read_text,
    take_line,
    toml_error_line,
)
from mamori.inventory.interface import Component, Parser
from mamori.model import ScanError

# --- Go: go.mod --------------------------------------------------------------------------------

_GO_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\S+')


def _go_fields(line: str) -> tuple[list[str], str]:
    """The tokens of a go.mod line (quotes removed) and its comment."""
    code, sep, comment = line.partition("//")
    # a "//" inside a quoted path is rare enough that go.mod files in the wild never do it
    fields = [t[1:-1] if t[0] in '"`' else t for t in _GO_TOKEN.findall(code)]
    return fields, comment.strip() if sep else ""


def _read_go_mod(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    errors: list[ScanError] = []
    requires: list[tuple[str, str, int, bool]] = []
    replaces: dict[tuple[str, str], tuple[str, str]] = {}  # (path, version or "") → (new, version)
    block: str | None = None
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        fields, comment = _go_fields(raw)
        if not fields:
            continue
        if block is not None:
            if fields == [")"]:
                block = None
                continue
            verb, args = block, fields
        elif len(fields) >= 2 and fields[1] == "(":
            block = fields[0]
            continue
        else:
            verb, args = fields[0], fields[1:]
        if verb == "require":
            if len(args) != 2:
                errors.append(ScanError(rel, "require needs a module path and a version", number))
                continue
            indirect = any(part.strip() == "indirect" for part in comment.split(";"))
            requires.append((args[0], args[1], number, not indirect))
        elif verb == "replace":
            if "=>" not in args:
                errors.append(ScanError(rel, "replace needs '=>'", number))
                continue
            arrow = args.index("=>")
            old, new = args[:arrow], args[arrow + 1 :]
            if len(old) not in (1, 2) or len(new) not in (1, 2):
                errors.append(ScanError(rel, "malformed replace directive", number))
                continue
            replaces[(old[0], old[1] if len(old) == 2 else "")] = (new[0], new[1] if len(new) == 2 else "")
        elif verb not in ("module", "go", "toolchain", "exclude", "retract", "godebug", "tool", "ignore"):
            errors.append(ScanError(rel, f"unknown go.mod directive {verb!r}", number))
    if block is not None:
        errors.append(ScanError(rel, f"{block} block is not closed with ')'"))
    found: list[Component] = []
    for module, version, line, direct in requires:
        target = replaces.get((module, version)) or replaces.get((module, ""))
        if target is not None:
            new_path, new_version = target
            if not new_version:  # a local folder: the project's own code
                continue
            module, version = new_path, new_version
        found.append(make_component("Go", module, version, rel, line, source="go-mod", direct=direct))
    return found, errors


# --- Rust: Cargo.lock --------------------------------------------------------------------------

_CARGO_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*package[ \t]*\]\]", re.MULTILINE)


def _read_cargo_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"invalid TOML: {exc}", path=rel, line=toml_error_line(str(exc))) from None
    index = LineIndex(text)
    header_lines = [index.line_of(m.start()) for m in _CARGO_HEADER.finditer(text)]
    packages = as_list(data.get("package"))
    local_deps: set[tuple[str, str]] = set()  # (name, version or "" when only one is locked)
    for pkg in packages:
        if isinstance(pkg, dict) and "source" not in pkg:
            for dep in as_list(pkg.get("dependencies")):
                name_version = str(dep).split(" ")  # "name", "name version" or "name version (source)"
                local_deps.add((name_version[0], name_version[1] if len(name_version) > 1 else ""))
    found: list[Component] = []
    errors: list[ScanError] = []
    for i, pkg in enumerate(packages):
        line = header_lines[i] if i < len(header_lines) else 0
        if not isinstance(pkg, dict):
            continue
        name, version, source = pkg.get("name"), pkg.get("version"), pkg.get("source")
        if not isinstance(name, str) or not isinstance(version, str):
            errors.append(ScanError(rel, "[[package]] without a name and version", line))
            continue
        if not isinstance(source, str):  # a workspace member or path dependency
            continue
        registry = source.startswith(("registry+", "sparse+"))
        found.append(
            make_component(
                "crates.io",
                name,
                version if registry else "",
                rel,
                line,
                source="cargo-lock",
                direct=((name, "") in local_deps or (name, version) in local_deps) if local_deps else None,
            )
        )
    return found, errors


# --- Ruby: Gemfile.lock ------------------------------------------------------------------------

_GEM_SPEC = re.compile(r"^    (\S+) \(([^)]+)\)\s*$")
_GEM_DEP = re.compile(r"^  (\S+?)(!)?(?: \(.*\))?\s*$")


def _read_gemfile_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    specs: list[tuple[str, str, int]] = []
    direct_names: set[str] = set()
    errors: list[ScanError] = []
    section = ""
    in_specs = False
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        if not raw.strip():
            continue
        if not raw[0].isspace():
            section, in_specs = raw.strip(), False
            continue
        if section == "DEPENDENCIES":
            dep = _GEM_DEP.match(raw)
            if dep:
                direct_names.add(dep.group(1))
            continue
        if section != "GEM":
            continue  # GIT and PATH gems are not from rubygems.org; PLATFORMS, RUBY VERSION …
        if raw.rstrip() == "  specs:":
            in_specs = True
            continue
        if not in_specs or raw.startswith("      "):
            continue  # a gem's own dependencies (6 spaces) are listed as gems too
        spec = _GEM_SPEC.match(raw)
        if spec is None:
            errors.append(ScanError(rel, "expected a gem spec 'name (version)'", number))
            continue
        name, version = spec.groups()
        specs.append((name, _gem_version(version), number))
    found = dedupe(  # a gem locked for several platforms is listed once per platform
        make_component(
            "RubyGems",
            name,
            version,
            rel,
            line,
            source="gemfile-lock",
            direct=(name in direct_names) if direct_names else None,
        )
        for name, version, line in specs
    )
    return found, errors


def _gem_version(version: str) -> str:
    """``1.13.3-x86_64-linux`` → ``1.13.3`` (Ruby versions never contain ``-``)."""
    return version.split("-", 1)[0].strip()


# --- PHP: composer.lock ------------------------------------------------------------------------


def _read_composer_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    text = read_text(path)
    data = loads_json(text, rel)
    if not isinstance(data, dict):
        raise ParseError("not a composer.lock: the top level is not an object", path=rel, line=1)
    lines = LineIndex(text).string_value_lines("name")
    required = _composer_requires(path)
    found: list[Component] = []
    errors: list[ScanError] = []
    for field, dev in (("packages", False), ("packages-dev", True)):
        for pkg in as_list(data.get(field)):
            if not isinstance(pkg, dict):
                continue
            name, version = pkg.get("name"), pkg.get("version")
            line = take_line(lines, name) if isinstance(name, str) else 0
            if not isinstance(name, str) or not isinstance(version, str):
                errors.append(ScanError(rel, f"an entry of {field} has no name or version", line))
                continue
            found.append(
                make_component(
                    "Packagist",
                    name,
                    version,
                    rel,
                    line,
                    source="composer-lock",
                    direct=(name.lower() in required) if required is not None else None,
                    dev=dev,
                )
            )
    return found, errors


def _composer_requires(path: Path) -> set[str] | None:
    """The packages ``composer.json`` beside the lockfile requires, or None without one."""
    try:
        manifest = load_json(path.with_name("composer.json"), "composer.json")
    except (OSError, ParseError, UnicodeDecodeError):
        return None
    if not isinstance(manifest, dict):
        return None
    return {
        str(name).lower() for field in ("require", "require-dev") for name in as_dict(manifest.get(field))
    }


# --- .NET: packages.lock.json ------------------------------------------------------------------


def _read_nuget_lock(path: Path, rel: str) -> tuple[list[Component], list[ScanError]]:
    text = read_text(path)
    data = loads_json(text, rel)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), dict):
        raise ParseError("not a NuGet packages.lock.json: no 'dependencies' object", path=rel, line=1)
    lines = LineIndex(text).object_key_lines()
    found: list[Component] = []
    for framework in data["dependencies"].values():
        for name, entry in as_dict(framework).items():
            entry = as_dict(entry)
            kind, version = entry.get("type"), entry.get("resolved")
            line = take_line(lines, name)
            if kind == "Project" or not isinstance(version, str):
                continue
            found.append(
                make_component(
                    "NuGet",
                    name,
                    version,
                    rel,
                    line,
                    source="nuget-lock",
                    direct=kind == "Direct",
                )
            )
    return dedupe(found), []


PARSERS: list[Parser] = [
    FileParser("go-mod", _read_go_mod, filenames=frozenset({"go.mod"})),
    FileParser("cargo-lock", _read_cargo_lock, filenames=frozenset({"Cargo.lock"})),
    FileParser("gemfile-lock", _read_gemfile_lock, filenames=frozenset({"Gemfile.lock", "gems.locked"})),
    FileParser("composer-lock", _read_composer_lock, filenames=frozenset({"composer.lock"})),
    FileParser("nuget-lock", _read_nuget_lock, filenames=frozenset({"packages.lock.json"})),
    *_JAVA_PARSERS,
]
"""The Go, Rust, Ruby, PHP, .NET and Java parsers, in the registry's order."""
