"""Generic natural ordering: the fallback for unknown ecosystems and for invalid versions.

Advisories exist for ecosystems mamori has no dedicated rules for, and real lockfiles contain
versions a scheme rejects; neither may crash a scan. The natural order splits a version into runs
of digits and runs of letters (everything else separates): numbers compare numerically, letters
case-insensitively, a letter run sorts before the end of the version and the end before a number
(so ``1.0a`` < ``1.0`` < ``1.0.1``, the common pre-release convention). Equal token sequences are
ordered by the raw string so the key is a total order that never calls two different strings equal.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"\d+|[A-Za-z]+")

GenericKey = tuple[tuple[tuple[int, int | str], ...], str]


@lru_cache(maxsize=1 << 16)
def key(version: str) -> GenericKey:
    """The natural-order key of ``version`` (total: ties broken by the raw string)."""
    tokens: list[tuple[int, int | str]] = []
    for tok in _TOKEN.findall(version):
        tokens.append((2, int(tok)) if tok.isdigit() else (0, tok.lower()))
    tokens.append((1, 0))
    return tuple(tokens), version


def is_valid(version: str) -> bool:
    """Any non-blank version without whitespace is acceptable to the generic order."""
    return bool(version) and not any(c.isspace() for c in version)


def normalize(version: str) -> str:
    """Surrounding whitespace stripped; otherwise the version as written."""
    return version.strip()
