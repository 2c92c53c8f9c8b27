"""PEP 440 ordering for PyPI, delegated to :class:`packaging.version.Version`.

``packaging`` is the reference implementation (pip uses it), so it is used rather than
re-implemented. Versions it rejects (legacy strings such as ``2004d`` or ``1.0-SNAPSHOT-x y``) do
not crash: they sort below every valid version, among themselves in the generic natural order
(:mod:`._generic`) — the same place pip's old ``LegacyVersion`` put them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from mamori.advisories.versions import _generic


@lru_cache(maxsize=1 << 16)
def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid ``(1, Version)``, invalid ``(0, generic)``."""
    parsed = _parse(version)
    if parsed is None:
        return (0, _generic.key(version))
    return (1, parsed)


def is_valid(version: str) -> bool:
    """True when ``version`` is a valid PEP 440 version."""
    return _parse(version) is not None


def normalize(version: str) -> str:
    """PEP 440 canonical form with trailing zeros stripped (``1.0.0`` and ``1`` meet)."""
    return canonicalize_version(version.strip(), strip_trailing_zero=True)
