"""What a scan checked and what it did not: the report's :class:`~mamori.model.Coverage`.

A security tool must never say "clean" about what it did not look at. Each inventory item is
either checked (a pinned version matched against a database that holds advisories for its
ecosystem) or listed with its reason:

* ``no-lockfile`` — a manifest's range (``package.json``, ``pyproject.toml``, ``Pipfile``,
  ``setup.py``, ``setup.cfg``) with
  no lockfile saying what is installed; the detail names the command that makes one;
* ``unpinned`` — a range in a file that is meant to pin (``flask>=0.12`` in requirements.txt),
  or a URL/VCS reference with no version;
* ``no-advisories`` — the database has no advisories for the component's ecosystem;
* ``unreadable`` — a file (or a line of one) that could not be parsed.

A range is not an item of its own when a pinned copy of the same package is in the inventory
(the lockfile beside the manifest says what the range resolved to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mamori._text import count
from mamori.ecosystems import base_ecosystem, normalize_name
from mamori.inventory.interface import Component
from mamori.model import Coverage, ScanError, Unchecked

MANIFEST_SOURCES = frozenset({"pyproject", "pipfile", "package-json", "setup-py", "setup-cfg"})
"""Parsers of manifests (ranges by design); a range elsewhere is a missing pin."""


def lock_command(component: Component, root: Path | None) -> str:
    """The command that writes a lockfile for the manifest ``component`` comes from."""
    if component.source == "package-json":
        return "`npm install --package-lock-only` (or `yarn install`, `pnpm install`)"
    if component.source == "pipfile":
        return "`pipenv lock`"
    if component.source in ("setup-py", "setup-cfg"):
        name = "setup.py" if component.source == "setup-py" else "setup.cfg"
        return (
            f"`pip-compile {name}` (pip-tools; or `pip freeze > requirements.txt` in the environment "
            "it is installed in, or scan with --python that environment's interpreter)"
        )
    text = ""
    if root is not None:
        try:
            text = (root / component.location.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    if "[tool.poetry" in text:
        return "`poetry lock`"
    if "[tool.pdm" in text:
        return "`pdm lock`"
    return "`uv lock` (or `pip-compile pyproject.toml`, `poetry lock`, `pdm lock`)"


def _unpinned_detail(component: Component, root: Path | None, newest: str = "") -> tuple[str, str, str, str]:
    """(reason, detail, advice, allows) of a component with no pinned version."""
    where = component.location.path
    if not component.range_spec:
        detail = "a URL or VCS reference with no release version: not matched against advisories"
        return "unpinned", detail, detail, "URL or VCS reference"
    allows = "any version" if component.range_spec == "*" else f"the range {component.range_spec}"
    checked = (
        f" (only its newest allowed release, {newest}, was checked: match newest-allowed)" if newest else ""
    )
    short = component.range_spec if component.range_spec != "*" else "any version"
    if newest:
        short += f" (newest allowed {newest} checked)"
    if component.source in MANIFEST_SOURCES:
        command = lock_command(component, root)
        return (
            "no-lockfile",
            f"{where} allows {allows} and no lockfile says which is installed{checked}: "
            f"run {command} and scan again",
            f"no lockfile says which versions are installed: run {command} and scan again",
            short,
        )
    advice = "pin an exact version (==) or scan the lockfile or environment (--python) it is installed from"
    return "unpinned", f"allows {allows}{checked}; {advice}", advice, short


def compute_coverage(
    components: Sequence[Component],
    errors: Iterable[ScanError],
    *,
    advised: Iterable[str],
    deps: bool = True,
    root: Path | None = None,
    code_files: int = 0,
    newest: Mapping[Component, str] | None = None,
    files: Sequence[str] = (),
) -> Coverage:
    """Coverage of an inventory against a database holding advisories for ``advised`` ecosystems.

    ``errors`` are the inventory's errors (each is an unreadable item); ``root`` is the folder
    paths are relative to (to name the right lock command); ``newest`` maps ranges an online
    scan resolved to the newest release they allow (still unchecked: the installed one may be
    older).
    """
    newest = newest or {}
    have = {base_ecosystem(e) for e in advised}
    pinned = {
        (base_ecosystem(c.ecosystem), normalize_name(c.ecosystem, c.name)) for c in components if c.version
    }
    checked = 0
    unchecked: list[Unchecked] = []
    for c in components:
        eco = base_ecosystem(c.ecosystem)
        if not c.version:
            if (eco, normalize_name(c.ecosystem, c.name)) in pinned:
                continue  # a lockfile (or another file) pins it: that copy is the item
            reason, detail, advice, allows = _unpinned_detail(c, root, newest.get(c, ""))
            unchecked.append(
                Unchecked(c.location.path, c.location.line, c.name, reason, detail, advice, allows)  # type: ignore[arg-type]
            )
            continue
        if deps and eco not in have:
            unchecked.append(
                Unchecked(
                    c.location.path,
                    c.location.line,
                    c.name,
                    "no-advisories",
                    f"the advisory database holds no {eco} advisories: run `mamori db update -e {eco}` "
                    "(online) or import them with `mamori db import`",
                )
            )
            continue
        checked += 1
    for e in errors:
        unchecked.append(Unchecked(e.path, e.line, "", "unreadable", e.message))
    total = checked + len(unchecked)
    return Coverage(
        checked=checked if deps else 0,
        total=total,
        unchecked=tuple(unchecked),
        deps=deps,
        code_files=code_files,
        files=tuple(sorted(set(files))),
    )


def summary_line(coverage: Coverage, open_findings: int) -> str:
    """``No vulnerabilities found.`` only for a complete check; otherwise ``0 found in N of M``."""
    if not coverage.deps:
        return "Dependencies were not checked (--no-deps)."
    if coverage.total == 0:
        if coverage.files:
            return f"No dependencies declared in {', '.join(coverage.files)}: nothing to check."
        return "No dependencies found to check."
    if coverage.complete:
        if open_findings:
            return f"All {count(coverage.total, 'inventory item')} checked."
        return "No vulnerabilities found."
    return (
        f"{open_findings} found in {coverage.checked} of {count(coverage.total, 'inventory item')} checked; "
        f"{coverage.total - coverage.checked} not checked (listed below)."
    )
