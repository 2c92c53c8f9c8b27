"""The inventory port: value types and the parser protocol.

A parser reads one file format and returns components plus errors; it never raises for bad
content (that becomes a :class:`mamori.model.ScanError` with path and line), so one broken
lockfile never hides the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mamori.model import Location, Package, ScanError


@dataclass(frozen=True, slots=True)
class Component:
    """One dependency found in a file."""

    ecosystem: str
    """OSV ecosystem name (``PyPI``, ``npm``, ``Go``, ``crates.io``, ``RubyGems``, ``Packagist``,
    ``Maven``, ``NuGet``, ``Hex``, ``Pub``, ``Debian``, ``Alpine``, ``CRAN`` …)."""
    name: str
    """The name as the ecosystem spells it (PyPI names normalised per PEP 503; Maven
    ``group:artifact``; Go module path)."""
    version: str
    """The exact version, or ``""`` when the file gives only a range (not matchable)."""
    location: Location
    """File (relative to the scan target) and 1-based line where it is declared."""
    purl: str = ""
    direct: bool | None = None
    """True for a direct dependency, False for transitive, None when the format does not say."""
    dev: bool | None = None
    """True for a development-only dependency, None when the format does not say."""
    source: str = ""
    """The parser that found it (``requirements``, ``package-lock`` …)."""
    range_spec: str = ""
    """The range the file allows when it gives no exact version (``>=0.12``, ``^4.17.0``); ``""``
    for a pin. ``"*"`` when the file names the package with no constraint at all."""

    def as_package(self) -> Package:
        """The package identity as findings carry it."""
        return Package(self.ecosystem, self.name, self.version, self.purl, self.range_spec)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a parser found in one file."""

    components: tuple[Component, ...] = ()
    errors: tuple[ScanError, ...] = ()


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every component of a target, and every error met reading it."""

    components: tuple[Component, ...] = ()
    errors: tuple[ScanError, ...] = ()
    files: tuple[str, ...] = ()
    """The files that were parsed, relative to the target."""
    root: Path = field(default_factory=Path)
    """The folder paths are relative to."""


class Parser(Protocol):
    """A parser of one format. ``name`` identifies it; ``matches`` decides by file name."""

    name: str

    def matches(self, path: Path) -> bool:
        """True when this parser reads the file at ``path`` (by its name, cheaply)."""
        ...

    def parse(self, path: Path, rel: str) -> ParseResult:
        """Parse ``path``; ``rel`` is the path to put in locations and errors."""
        ...
