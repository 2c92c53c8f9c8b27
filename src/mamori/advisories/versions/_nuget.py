"""NuGet version ordering (NuGet.Versioning's ``NuGetVersion``).

NuGet is SemVer 2.0 with up to four numeric parts (``1.2.3.4``; missing parts are 0, so
``1.0`` == ``1.0.0.0``), pre-release labels compared case-insensitively (numeric labels
numerically and below alphanumeric ones) and build metadata ignored. Invalid versions sort below
valid ones in the generic order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic
from mamori.advisories.versions._semver import prerelease_key

_NUGET = re.compile(
    r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$"
)


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid ``(1, a, b, c, d, pre)``, invalid ``(0, generic)``."""
    m = _NUGET.match(version)
    if m is None:
        return (0, _generic.key(version))
    a, b, c, d, pre, _meta = m.groups()
    return (1, int(a), int(b or 0), int(c or 0), int(d or 0), prerelease_key(pre, fold_case=True))


def is_valid(version: str) -> bool:
    """True for a NuGet version string."""
    return _NUGET.match(version) is not None


def normalize(version: str) -> str:
    """NuGet's normalised form: three or four parts, lower-case pre-release, no metadata."""
    m = _NUGET.match(version)
    if m is None:
        return version.strip()
    a, b, c, d, pre, _meta = m.groups()
    out = f"{int(a)}.{int(b or 0)}.{int(c or 0)}"
    if d is not None and int(d) != 0:
        out += f".{int(d)}"
    if pre:
        out += f"-{pre.lower()}"
    return out
