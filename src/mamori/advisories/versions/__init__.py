"""Version ordering for every OSV ecosystem.

Whether a component is affected depends on comparing its version with advisory events, and every
ecosystem orders versions by its own rules (``1.0~rc1`` < ``1.0`` in Debian, ``1.0-SNAPSHOT`` <
``1.0`` in Maven, ``1.0.a`` < ``1.0`` in RubyGems). One private module per scheme follows the
reference implementation; this module picks the scheme from the OSV ecosystem name (a release
suffix such as ``Debian:12`` is ignored).

Every scheme provides a cached *key*: ``sorted(vs, key=lambda v: sort_key(eco, v))`` sorts in the
ecosystem's order and two keys compare like :func:`compare`. Strings a scheme rejects never raise:
they sort below every valid version of that scheme, among themselves in the generic natural order.

Unknown ecosystems use the generic natural order (:mod:`._generic`): digit runs numerically,
letter runs case-insensitively, a letter run below the end of the version, the end below a number
(``1.0a`` < ``1.0`` < ``1.0.1``); equal token sequences are ordered by the raw string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import (
    _apk,
    _cran,
    _dpkg,
    _generic,
    _go,
    _maven,
    _nuget,
    _packagist,
    _pep440,
    _rpm,
    _rubygems,
    _semver,
)
from mamori.ecosystems import base_ecosystem

__all__ = [
    "ECOSYSTEM_SCHEMES",
    "SCHEMES",
    "Scheme",
    "compare",
    "is_valid",
    "normalize",
    "scheme_for",
    "sort_key",
]


@dataclass(frozen=True, slots=True)
class Scheme:
    """A version scheme: its name and its cached key, validity and normalisation functions."""

    name: str
    key: Callable[[str], Any]
    """Total-order key of a version (cached); keys of one scheme compare with each other."""
    is_valid: Callable[[str], bool]
    normalize: Callable[[str], str]
    """The spelling two equal versions share, for exact matching of OSV ``versions`` lists."""


def _scheme(name: str, module: Any) -> Scheme:
    # Normalisation runs once per listed version of every candidate advisory (millions on a
    # large database): the same few thousand version strings recur, so it is cached here.
    return Scheme(
        name=name,
        key=module.key,
        is_valid=module.is_valid,
        normalize=lru_cache(maxsize=1 << 18)(module.normalize),
    )


SCHEMES: dict[str, Scheme] = {
    "pep440": _scheme("pep440", _pep440),
    "semver": _scheme("semver", _semver),
    "go": _scheme("go", _go),
    "maven": _scheme("maven", _maven),
    "nuget": _scheme("nuget", _nuget),
    "rubygems": _scheme("rubygems", _rubygems),
    "packagist": _scheme("packagist", _packagist),
    "dpkg": _scheme("dpkg", _dpkg),
    "apk": _scheme("apk", _apk),
    "rpm": _scheme("rpm", _rpm),
    "cran": _scheme("cran", _cran),
    "generic": _scheme("generic", _generic),
}
"""Every scheme by name; ``semver`` also serves OSV ``SEMVER`` ranges."""

ECOSYSTEM_SCHEMES: dict[str, str] = {
    "PyPI": "pep440",
    "npm": "semver",
    "crates.io": "semver",
    "Hex": "semver",
    "Pub": "semver",
    "SwiftURL": "semver",
    "Bitnami": "semver",
    "Go": "go",
    "Maven": "maven",
    "NuGet": "nuget",
    "RubyGems": "rubygems",
    "Packagist": "packagist",
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "Mageia": "rpm",
    "openEuler": "rpm",
    "Photon OS": "rpm",
    "CRAN": "cran",
    "Bioconductor": "cran",
}
"""OSV ecosystem (without release suffix) → scheme name; others use ``generic``."""


def scheme_for(ecosystem: str) -> Scheme:
    """The scheme of an OSV ecosystem (``Debian:12`` → dpkg); unknown ones get ``generic``."""
    return SCHEMES[ECOSYSTEM_SCHEMES.get(base_ecosystem(ecosystem), "generic")]


def sort_key(ecosystem: str, version: str) -> Any:
    """A key ordering ``version`` within ``ecosystem``; usable with ``sorted(key=...)``."""
    return scheme_for(ecosystem).key(version)


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b`` in ``ecosystem``."""
    key = scheme_for(ecosystem).key
    ka, kb = key(a), key(b)
    if ka < kb:
        return -1
    return 1 if kb < ka else 0


def is_valid(ecosystem: str, version: str) -> bool:
    """True when ``version`` is well-formed for ``ecosystem``'s scheme."""
    return scheme_for(ecosystem).is_valid(version)


def normalize(ecosystem: str, version: str) -> str:
    """``version`` spelt the way ``ecosystem`` considers canonical (for exact matching)."""
    return scheme_for(ecosystem).normalize(version)
