"""SemVer 2.0.0 ordering (npm, crates.io, Hex, Pub, SwiftURL and OSV ``SEMVER`` ranges).

Precedence follows https://semver.org/#spec-item-11: major, minor and patch numerically; a
pre-release sorts below its release; pre-release identifiers compare one by one, numeric ones
numerically and below alphanumeric ones (compared in ASCII order), and a shorter identifier list
sorts first when all shared identifiers are equal. Build metadata is ignored.

Real-world data is looser than the spec, so parsing is tolerant the way npm's ``semver`` is in
loose mode: leading ``v`` or ``=``, missing minor/patch (``1.2`` means ``1.2.0``), leading zeros,
and a pre-release glued to the patch (``1.2.3beta``). Strings that still do not parse sort below
every valid version in the generic natural order (:mod:`._generic`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_LOOSE = re.compile(
    r"^\s*[=v]*\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-?([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$"
)

PreKey = tuple[Any, ...]


def prerelease_key(pre: str | None, *, fold_case: bool = False) -> PreKey:
    """Key of a pre-release part per SemVer §11 (``None`` = a release, above every pre-release)."""
    if pre is None:
        return (1,)
    ids: list[tuple[int, int | str]] = []
    for ident in pre.split("."):
        if ident.isdigit():
            ids.append((0, int(ident)))
        else:
            ids.append((1, ident.lower() if fold_case else ident))
    return (0, tuple(ids))


def parse(version: str) -> tuple[int, int, int, str | None, str | None] | None:
    """(major, minor, patch, pre-release, build) of a loose SemVer string, or None."""
    m = _LOOSE.match(version)
    if m is None:
        return None
    major, minor, patch, pre, build = m.groups()
    return int(major), int(minor or 0), int(patch or 0), pre, build


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid versions ``(1, major, minor, patch, pre)``, others ``(0, generic)``."""
    parsed = parse(version)
    if parsed is None:
        return (0, _generic.key(version))
    major, minor, patch, pre, _build = parsed
    return (1, major, minor, patch, prerelease_key(pre))


def is_valid(version: str) -> bool:
    """True when ``version`` parses as (loose) SemVer."""
    return parse(version) is not None


def normalize(version: str) -> str:
    """``v1.2`` → ``1.2.0``; pre-release and build kept as written; unparsable strings stripped."""
    parsed = parse(version)
    if parsed is None:
        return version.strip()
    major, minor, patch, pre, build = parsed
    out = f"{major}.{minor}.{patch}"
    if pre is not None:
        out += f"-{pre}"
    if build is not None:
        out += f"+{build}"
    return out
