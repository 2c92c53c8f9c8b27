"""The newest release an unpinned range allows, from the package index (online scans only).

A range (``flask>=0.12`` in requirements.txt, ``"lodash": "^4.17.0"`` in a package.json with no
lockfile) says nothing certain about what is installed. :mod:`mamori.advisories.spans` reports
the advisories that affect *every* version it allows; online, a scan also checks the newest
release the range allows, since that is what a fresh install gets: its findings are tagged
``match: newest-allowed`` and the item stays listed as not checked (the installed version may
be older).

The newest allowed release is the highest version the index lists that is not yanked (PyPI) or
deprecated (npm), is not a pre-release (unless the range itself names one), and satisfies the
range: PEP 440 specifiers through ``packaging``, npm ranges through the interval reader of
:mod:`mamori.advisories.spans`. A range neither can read, an ecosystem other than PyPI and npm,
or an index that does not answer gives no version (and no claim).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mamori.advisories.spans import allowed_intervals, interval_contains
from mamori.advisories.versions import sort_key
from mamori.ecosystems import base_ecosystem
from mamori.inventory.interface import Component
from mamori.registry import PackageIndex

__all__ = ["allows", "newest_allowed", "resolve_newest"]

_WORKERS = 8


def _prerelease(ecosystem: str, version: str) -> bool:
    if ecosystem == "PyPI":
        from packaging.version import InvalidVersion, Version

        try:
            return Version(version).is_prerelease
        except InvalidVersion:
            return True
    return "-" in version.split("+", 1)[0]


def allows(ecosystem: str, spec: str, version: str) -> bool | None:
    """Whether ``spec`` allows ``version`` (pre-releases as the range itself names them);
    None when the range is not one this module reads."""
    eco = base_ecosystem(ecosystem)
    spec = spec.strip()
    names_pre = bool(re.search(r"\d-[0-9A-Za-z]|\d(a|b|rc|dev)\d", spec))
    if _prerelease(eco, version) and not names_pre:
        return False
    if eco == "PyPI":
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version

        try:
            return SpecifierSet("" if spec == "*" else spec).contains(Version(version), prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return None
    if eco == "npm":
        intervals = allowed_intervals("npm", spec)
        if intervals is None:
            return None
        try:
            return any(interval_contains("npm", i, version) for i in intervals)
        except Exception:  # a version the npm order cannot read is not one a range allows
            return False
    return None


def newest_allowed(ecosystem: str, spec: str, releases: Iterable[Any]) -> str | None:
    """The highest release of ``releases`` (objects with ``version`` and ``yanked``) ``spec`` allows."""
    eco = base_ecosystem(ecosystem)
    best: str | None = None
    best_key: Any = None
    for r in releases:
        if getattr(r, "yanked", False):
            continue
        version = str(r.version)
        if not allows(eco, spec, version):
            continue
        try:
            key = sort_key(eco, version)
        except Exception:
            continue
        if best_key is None or key > best_key:
            best, best_key = version, key
    return best


def resolve_newest(
    components: Iterable[Component],
    *,
    index: PackageIndex | None = None,
    progress: Any = None,
    warn: Callable[[str], None] | None = None,
) -> dict[Component, str]:
    """The newest allowed release of each range component the index can answer for."""
    wanted = [
        c
        for c in components
        if not c.version and c.range_spec and base_ecosystem(c.ecosystem) in ("PyPI", "npm")
    ]
    if not wanted:
        return {}
    if index is None:
        from mamori.config import mamori_home

        index = PackageIndex(cache_dir=mamori_home() / "cache" / "index")
    if progress is not None:
        progress.start("resolving ranges", total=len(wanted), unit="packages")

    def one(c: Component) -> str | None:
        releases = index.releases(c.ecosystem, c.name)
        if progress is not None:
            progress.advance(1)
        return None if releases is None else newest_allowed(c.ecosystem, c.range_spec, releases)

    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(wanted))) as pool:
        answers = list(pool.map(one, wanted))
    if progress is not None:
        progress.finish()
    if index.unreachable and warn is not None:
        where = ", ".join(sorted(index.unreachable))
        warn(
            f"could not reach the package index ({where}): unpinned ranges were not resolved to "
            "their newest release and only advisories affecting every version they allow are reported"
        )
    return {c: v for c, v in zip(wanted, answers, strict=True) if v}
