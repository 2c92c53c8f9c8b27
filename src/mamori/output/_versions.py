"""Choosing the version to upgrade to, for reports.

Renderers must say *which* version fixes a vulnerable dependency: the lowest fixed version
above the installed one (an advisory often lists one fix per release branch, ``2.10.1`` and
``2.11.3``; someone on 2.10 wants 2.10.1). Ordering is ecosystem specific: PEP 440 for PyPI
(via :mod:`packaging`), and a natural ordering of numeric and text parts for the rest, which
fits SemVer and the dotted versions of most ecosystems well enough for a recommendation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

from mamori.ecosystems import base_ecosystem

_PARTS = re.compile(r"\d+|[A-Za-z]+")


def _natural_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key for non-PEP 440 versions: numbers compare as numbers, pre-releases sort low.

    ``1.2.0-rc1`` sorts before ``1.2.0``: a text part after the numeric core marks a
    pre-release, so it ranks below the end of the version (rank 0 < 1 for end-of-version).
    """
    v = version.strip().lstrip("vV")
    v = v.split("+", 1)[0]  # SemVer build metadata does not order
    key: list[tuple[int, int, str]] = []
    for part in _PARTS.findall(v):
        if part.isdigit():
            key.append((2, int(part), ""))
        else:
            key.append((0, 0, part.lower()))
    key.append((1, 0, ""))
    return tuple(key)


def version_key(ecosystem: str, version: str) -> tuple[object, ...]:
    """A key that orders versions of one ecosystem from oldest to newest."""
    if base_ecosystem(ecosystem) == "PyPI":
        try:
            return (1, Version(version))
        except InvalidVersion:
            pass
    return (0, _natural_key(version))


def _less(ecosystem: str, a: str, b: str) -> bool:
    ka, kb = version_key(ecosystem, a), version_key(ecosystem, b)
    if ka[0] != kb[0]:
        # One parses as PEP 440 and one does not: compare both naturally.
        return _natural_key(a) < _natural_key(b)
    return ka < kb


def lowest_fix_above(ecosystem: str, current: str, fixed: Iterable[str]) -> str | None:
    """The lowest of ``fixed`` that is newer than ``current``; None when no fix is newer.

    With no current version (a range in a manifest) the lowest fixed version is returned.
    """
    best: str | None = None
    for candidate in fixed:
        if not candidate:
            continue
        if current and not _less(ecosystem, current, candidate):
            continue
        if best is None or _less(ecosystem, candidate, best):
            best = candidate
    return best


def highest(ecosystem: str, versions: Iterable[str]) -> str | None:
    """The newest of ``versions`` (None for none)."""
    best: str | None = None
    for v in versions:
        if best is None or _less(ecosystem, best, v):
            best = v
    return best
