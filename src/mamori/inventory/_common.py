"""What every non-Python lockfile parser shares: the parser shape and component building.

Each format module only says how to read its format (``_read``); this base turns a
:class:`~mamori.errors.ParseError` into a :class:`~mamori.model.ScanError` with file and line,
so a parser never raises for bad content, and builds components with canonical names and purls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from mamori.ecosystems import normalize_name, purl_for
from mamori.errors import ParseError
from mamori.inventory.interface import Component, ParseResult
from mamori.model import Location, ScanError


def make_component(
    ecosystem: str,
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
    """A component with its name normalised for the ecosystem and its purl filled in.

    ``range_spec`` is what the file allows when ``version`` is ``""`` (``"*"`` for no constraint).
    """
    name = normalize_name(ecosystem, name)
    return Component(
        ecosystem=ecosystem,
        name=name,
        version=version,
        location=Location(rel, line),
        purl=purl_for(ecosystem, name, version),
        direct=direct,
        dev=dev,
        source=source,
        range_spec="" if version else range_spec,
    )


Reader = Callable[[Path, str], tuple[list[Component], list[ScanError]]]


class FileParser:
    """A parser of one format, matched by exact file names or name suffixes.

    A plain class rather than a frozen dataclass: the :class:`Parser` protocol declares
    ``name`` as a settable attribute.
    """

    __slots__ = ("extra_match", "filenames", "name", "read", "suffixes")

    def __init__(
        self,
        name: str,
        read: Reader,
        *,
        filenames: frozenset[str] = frozenset(),
        suffixes: tuple[str, ...] = (),
        extra_match: Callable[[Path], bool] | None = None,
    ) -> None:
        self.name = name
        """The parser's name; also each component's ``source``."""
        self.read = read
        """Reads a file: ``(path, rel) → (components, errors)``; may raise :class:`ParseError`."""
        self.filenames = filenames
        self.suffixes = suffixes
        self.extra_match = extra_match

    def __repr__(self) -> str:
        return f"FileParser({self.name!r})"

    def matches(self, path: Path) -> bool:
        """True when the file name is one this format uses."""
        name = path.name
        if name in self.filenames or (self.suffixes and name.endswith(self.suffixes)):
            return True
        return self.extra_match is not None and self.extra_match(path)

    def parse(self, path: Path, rel: str) -> ParseResult:
        """Parse ``path``; bad content becomes an error naming ``rel`` and the line."""
        try:
            components, errors = self.read(path, rel)
        except ParseError as exc:
            return ParseResult(errors=(ScanError(rel, exc.message, exc.line or 0),))
        except UnicodeDecodeError as exc:
            return ParseResult(errors=(ScanError(rel, f"not valid UTF-8 text: {exc.reason}"),))
        except OSError as exc:
            return ParseResult(errors=(ScanError(rel, f"cannot read: {exc.strerror or exc}"),))
        return ParseResult(tuple(components), tuple(errors))


def dedupe(components: Iterable[Component]) -> list[Component]:
    """One component per (ecosystem, name, version), keeping the first location.

    ``direct`` becomes True if any copy is direct; ``dev`` stays True only if every copy is dev.
    """
    merged: dict[tuple[str, str, str], Component] = {}
    for comp in components:
        key = (comp.ecosystem, comp.name, comp.version)
        old = merged.get(key)
        if old is None:
            merged[key] = comp
            continue
        direct = _any(old.direct, comp.direct)
        dev = _all(old.dev, comp.dev)
        if direct != old.direct or dev != old.dev:
            merged[key] = Component(
                old.ecosystem,
                old.name,
                old.version,
                old.location,
                old.purl,
                direct,
                dev,
                old.source,
                old.range_spec,
            )
    return list(merged.values())


def _any(a: bool | None, b: bool | None) -> bool | None:
    if a is None and b is None:
        return None
    return bool(a) or bool(b)


def _all(a: bool | None, b: bool | None) -> bool | None:
    if a is None or b is None:
        return a if b is None else b
    return a and b
