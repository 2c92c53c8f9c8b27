"""CRAN package version ordering (R's ``package_version``).

An R version is a sequence of non-negative integers separated by ``.`` or ``-``; versions compare
as integer sequences, a longer one above its prefix (``1.0`` < ``1.0.0`` in R). Anything else
sorts below valid versions in the generic order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_CRAN = re.compile(r"^\s*\d+(?:[.-]\d+)*\s*$")
_SEP = re.compile(r"[.-]")


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid ``(1, ints)``, invalid ``(0, generic)``."""
    if not _CRAN.match(version):
        return (0, _generic.key(version))
    return (1, tuple(int(p) for p in _SEP.split(version.strip())))


def is_valid(version: str) -> bool:
    """True for integers separated by ``.`` or ``-``."""
    return _CRAN.match(version) is not None


def normalize(version: str) -> str:
    """Separators unified to ``.`` and leading zeros dropped (``1.0-2`` → ``1.0.2``)."""
    if not _CRAN.match(version):
        return version.strip()
    return ".".join(str(int(p)) for p in _SEP.split(version.strip()))
