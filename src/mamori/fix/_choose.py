"""Choosing the version a vulnerable component moves to.

The rule (as pip-audit's ``--fix`` does it): candidates are the releases the package index
lists, or, when it cannot be asked, the versions the advisories name as fixed; each candidate is
re-checked against every advisory in the store, and a candidate that is itself affected brings
the fixed versions of what affects it into the pool, until nothing known affects the choice.
``in-place`` takes the smallest safe release within the current major version (else the smallest
safe release above it, reported as crossing a major); ``latest-safe``
the newest safe release. When there is none, the answer says so and lists the options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mamori.advisories.versions import compare, sort_key
from mamori.ecosystems import base_ecosystem
from mamori.fix._index import PackageIndex, Release
from mamori.inventory.interface import Component

_MAX_ROUNDS = 200


@dataclass(frozen=True, slots=True)
class Choice:
    """The chosen version (or None) with the reason and, when there is none, the options."""

    version: str | None
    why: str
    source: str
    """``index`` or ``advisories``: where the candidate versions came from."""
    options: tuple[str, ...] = ()
    release: Release | None = None


def major(ecosystem: str, version: str) -> str:
    """The major version: the first release number (``1`` of ``1.2.3``; epochs kept for PEP 440)."""
    v = version.strip().lstrip("vV=")
    if base_ecosystem(ecosystem) == "PyPI":
        try:
            from packaging.version import Version

            parsed = Version(v)
            return f"{parsed.epoch}!{parsed.release[0]}" if parsed.epoch else str(parsed.release[0])
        except Exception:
            pass
    m = re.match(r"(\d+)", v)
    return m.group(1) if m else v


def is_prerelease(ecosystem: str, version: str) -> bool:
    """True for alpha/beta/rc/dev releases (PEP 440) or semver versions with a ``-`` suffix."""
    if base_ecosystem(ecosystem) == "PyPI":
        try:
            from packaging.version import Version

            return Version(version).is_prerelease
        except Exception:
            return True
    return "-" in version or bool(re.search(r"[a-zA-Z]", version.split("+")[0]))


class VersionChooser:
    """Chooses safe versions against one advisory store (anything with ``lookup(components)``)."""

    def __init__(self, store: Any, index: PackageIndex) -> None:
        self.store = store
        self.index = index
        self._affected: dict[tuple[str, str, str], tuple[str, ...] | None] = {}
        self._blockers: dict[tuple[str, str, str], tuple[str, ...]] = {}

    def affecting(self, component: Component, version: str) -> tuple[str, ...] | None:
        """Fixed versions named by the advisories affecting ``version`` (None when none affects it)."""
        key = (component.ecosystem, component.name, version)
        if key not in self._affected:
            probe = replace(component, version=version)
            matches = self.store.lookup([probe])
            if not matches:
                self._affected[key] = None
            else:
                self._affected[key] = tuple(v for m in matches for v in m.fixed) or ()
                self._blockers[key] = tuple(
                    sorted({str(getattr(getattr(m, "advisory", None), "id", "")) for m in matches} - {""})
                )
        return self._affected[key]

    def blockers(self, component: Component, version: str) -> tuple[str, ...]:
        """Ids of the advisories that affect ``version`` (after :meth:`affecting` asked about it)."""
        self.affecting(component, version)
        return self._blockers.get((component.ecosystem, component.name, version), ())

    def choose(self, component: Component, fixed_hint: tuple[str, ...], strategy: str) -> Choice:
        """The version ``component`` should move to under ``strategy`` (``in-place`` or ``latest-safe``)."""
        eco = component.ecosystem
        current = component.version
        releases = self.index.releases(eco, component.name)
        allow_pre = is_prerelease(eco, current)

        def usable(v: str) -> bool:
            return compare(eco, v, current) > 0 and (allow_pre or not is_prerelease(eco, v))

        by_version: dict[str, Release] = {}
        if releases:
            source = "index"
            by_version = {r.version: r for r in releases if not r.yanked}
            pool = {v for v in by_version if usable(v)}
        else:
            source = "advisories"
            pool = {v for v in fixed_hint if usable(v)}
        checked: set[str] = set()
        safe: list[str] = []
        for _ in range(_MAX_ROUNDS):
            todo = sorted(pool - checked, key=lambda v: sort_key(eco, v))
            if not todo:
                break
            for v in todo:
                checked.add(v)
                fixes = self.affecting(component, v)
                if fixes is None:
                    safe.append(v)
                elif source == "advisories":
                    pool.update(f for f in fixes if usable(f))
            if source == "index":
                break
        safe.sort(key=lambda v: sort_key(eco, v))
        same_major = [v for v in safe if major(eco, v) == major(eco, current)]
        where = "the package index" if source == "index" else "the versions the advisories name"
        if strategy == "latest-safe":
            if safe:
                v = safe[-1]
                return Choice(
                    v,
                    f"newest release no known advisory affects (from {where})",
                    source,
                    release=by_version.get(v),
                )
        elif same_major:
            v = same_major[0]
            return Choice(
                v,
                f"smallest release of major {major(eco, current)} no known advisory affects (from {where})",
                source,
                release=by_version.get(v),
            )
        elif safe:
            # No safe release in the current major (calendar-versioned packages such as certifi,
            # pytz or tzdata have no "major" at all): the smallest safe release above it, as
            # Dependabot's security updates do; the tests decide whether the project copes.
            v = safe[0]
            return Choice(
                v,
                f"crosses a major: no release of {component.name} within major {major(eco, current)} is free "
                f"of known advisories; {v} is the smallest safe release above it (from {where})",
                source,
                release=by_version.get(v),
            )
        options: list[str] = []
        if safe and strategy != "latest-safe":
            options.append(
                f"--strategy latest-safe moves to {safe[-1]} (smallest safe release: {safe[0]}, a new major version)"
            )
        if source == "advisories":
            options.append("run online so the package index can list every release")
        options.append(f"replace {component.name}, or accept the risk with an ignore that states why")
        if safe and strategy != "latest-safe":
            majors = sorted({major(eco, v) for v in safe}, key=lambda m: sort_key(eco, m))
            why = (
                f"no release of {component.name} within major {major(eco, current)} is free of known "
                f"advisories; the only safe releases are in another major version "
                f"({', '.join(majors[:5])}{'…' if len(majors) > 5 else ''}: smallest {safe[0]}, newest {safe[-1]})"
            )
        else:
            why = f"no known release of {component.name} newer than {current} is free of known advisories"
            newest = max(checked, key=lambda v: sort_key(eco, v)) if checked else None
            if newest is not None:
                ids = self.blockers(component, newest)
                if ids:
                    why += (
                        f" (the newest, {newest}, is affected by {', '.join(ids[:3])}"
                        f"{' …' if len(ids) > 3 else ''})"
                    )
        return Choice(None, why + f" (candidates from {where})", source, tuple(options))
