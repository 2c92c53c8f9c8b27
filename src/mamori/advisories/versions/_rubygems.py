"""RubyGems version ordering (``Gem::Version#<=>``).

A gem version is digits, then dot-separated alphanumeric segments, optionally ``-pre`` parts
(a hyphen means ``.pre.``). It is scanned into segments — digit runs as integers, letter runs as
strings, so ``1.0.a10`` is ``[1, 0, "a", 10]`` — and a letter anywhere makes it a pre-release.
Comparison uses the canonical segments: trailing zeros are dropped from the numeric part and from
the part after the first letter, missing segments count as 0, a string is older than any number
and strings compare in ASCII order; hence ``1.0.a`` < ``1.0`` == ``1`` and ``1.0.b1`` < ``1.0.b2``.

Padding with 0 is not something plain tuple comparison does, so the key groups each segment
with the count of zeros before it: ``(0, zeros, s)`` for a string, ``(2, -zeros, n)`` for a
non-zero number and ``(1,)`` for the end (the endless zeros). A side that has a string where the
other has a padding 0 is older, one with a number is newer, which is exactly this order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_VALID = re.compile(r"^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$", re.ASCII)
_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE | re.ASCII)


def canonical_segments(version: str) -> list[int | str]:
    """``Gem::Version#canonical_segments`` of a valid version string."""
    v = version.strip().replace("-", ".pre.") or "0"
    segs: list[int | str] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(v)]
    first_str = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
    out: list[int | str] = []
    for part in (segs[:first_str], segs[first_str:]):
        while part and part[-1] == 0:
            part.pop()
        out.extend(part)
    return out


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key (see module docstring); invalid versions give ``(0, generic)``."""
    if not _VALID.match(version):
        return (0, _generic.key(version))
    groups: list[tuple[Any, ...]] = []
    zeros = 0
    for seg in canonical_segments(version):
        if seg == 0:
            zeros += 1
        elif isinstance(seg, str):
            groups.append((0, zeros, seg))
            zeros = 0
        else:
            groups.append((2, -zeros, seg))
            zeros = 0
    groups.append((1,))
    return (1, tuple(groups))


def is_valid(version: str) -> bool:
    """``Gem::Version.correct?``: matches RubyGems' anchored version pattern."""
    return bool(_VALID.match(version))


def is_prerelease(version: str) -> bool:
    """A letter anywhere makes a gem version a pre-release."""
    return any(c.isalpha() for c in version)


def normalize(version: str) -> str:
    """Surrounding whitespace stripped."""
    return version.strip()
