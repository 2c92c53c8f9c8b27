"""Go module version ordering (golang.org/x/mod/semver).

Go versions are SemVer with a mandatory ``v`` (OSV writes them without it, so the ``v`` is
optional here). ``v1`` and ``v1.2`` are shorthands for ``v1.0.0`` and ``v1.2.0``;
``+incompatible`` is build metadata and so ignored. Pseudo-versions
(``v0.0.0-20191109021931-daa7c04131f5``, ``v1.2.4-0.20191109021931-daa7c04131f5``) are ordinary
pre-releases, which is exactly how Go orders them: below the release they precede and, by their
timestamp, among themselves. Unlike loose SemVer, Go rejects leading zeros, digits other than
ASCII ones, surrounding whitespace and more than three numbers (``v1.1.3.4.5``).

Invalid versions (``semver.IsValid`` False for the version with a ``v`` put in front) sort below
all valid ones, as in Go's ``semver.Compare``. Go calls every invalid string equal to every
other; mamori does not (that would make any two garbage strings "the same version"): among
themselves they are ordered by the generic natural order, equal only when spelt the same, and
:func:`normalize` leaves them as written.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic
from mamori.advisories.versions._semver import prerelease_key

_NUM = r"(?:0|[1-9][0-9]*)"
_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_GO = re.compile(
    rf"^v?({_NUM})(?:\.({_NUM})(?:\.({_NUM})"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?\Z"
)


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid ``(1, major, minor, patch, pre)``, invalid ``(0, generic)``."""
    m = _GO.match(version)
    if m is None:
        return (0, _generic.key(version))
    major, minor, patch, pre, _build = m.groups()
    return (1, int(major), int(minor or 0), int(patch or 0), prerelease_key(pre))


def is_valid(version: str) -> bool:
    """True for a Go module version (with or without the leading ``v``)."""
    return _GO.match(version) is not None


def normalize(version: str) -> str:
    """A valid version without its leading ``v`` (OSV's spelling); an invalid one as written.

    ``v1.1.3.4.5`` is not a Go version, so it is not made equal to ``1.1.3.4.5`` either.
    """
    if _GO.match(version) is None:
        return version
    return version[1:] if version.startswith("v") else version
