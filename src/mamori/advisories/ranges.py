"""OSV range evaluation: is a version inside an ``affected[]`` entry?

This follows the OSV schema's evaluation rules (https://ossf.github.io/osv-schema/#evaluation):

* a version listed in ``versions`` is affected (exact match after the ecosystem's normalisation);
* each ``ECOSYSTEM`` or ``SEMVER`` range is evaluated on its own and the ranges OR together
  (``GIT`` ranges name commits, not versions, and are skipped);
* inside a range, events are sorted by version (``introduced: "0"`` is below everything; an
  ``introduced`` and a ``fixed`` at the same version cancel out, see :func:`_cancel_ties`;
  otherwise ties put ``introduced`` before ``last_affected``) and walked in order:
  ``introduced`` at or below the version opens the range, ``fixed`` at or below it closes it,
  ``last_affected`` strictly below it closes it; the state after the last event decides;
* when the range has ``limit`` events the version must also be below one of them
  (``limit: "*"`` is no limit);
* an empty version is never affected.

``SEMVER`` ranges compare with SemVer 2.0; ``ECOSYSTEM`` ranges with the ecosystem's own order
(:mod:`mamori.advisories.versions`). Each ``Affected`` is compiled once (cached) into sorted
event keys, so a lookup costs one cached key for the version and a few tuple comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mamori.advisories.interface import Affected
from mamori.advisories.versions import SCHEMES, Scheme, scheme_for

__all__ = ["fixed_versions", "is_affected"]

_INTRODUCED, _FIXED, _LAST_AFFECTED = 0, 1, 2
_KIND = {"introduced": _INTRODUCED, "fixed": _FIXED, "last_affected": _LAST_AFFECTED}


@dataclass(frozen=True, slots=True)
class _CompiledRange:
    scheme: Scheme
    events: tuple[tuple[Any, int], ...]
    """(key, kind) sorted by version; the key of ``introduced: "0"`` is None (= lowest)."""
    limits: tuple[Any, ...] | None
    """Keys of the limit events, None when the range has no (finite) limit."""


@dataclass(slots=True)
class _Compiled:
    raw_versions: tuple[str, ...]
    scheme: Scheme
    ranges: tuple[_CompiledRange, ...]
    _versions: frozenset[str] | None = None

    @property
    def versions(self) -> frozenset[str]:
        """The listed versions, normalised (built on first need: most lookups are decided
        by the ranges alone, and a long list costs a normalisation per entry)."""
        if self._versions is None:
            self._versions = frozenset(self.scheme.normalize(v) for v in self.raw_versions if v)
        return self._versions


def _compile_range(scheme: Scheme, events: list[tuple[str, str]]) -> _CompiledRange:
    keyed: list[tuple[Any, int]] = []
    limits: list[Any] = []
    unlimited = False
    for kind, value in events:
        if kind == "limit":
            if value == "*":
                unlimited = True
            else:
                limits.append(scheme.key(value))
            continue
        code = _KIND.get(kind)
        if code is None or not value:
            continue
        keyed.append((None if code == _INTRODUCED and value == "0" else scheme.key(value), code))
    lowest = [e for e in keyed if e[0] is None]
    rest = sorted((e for e in keyed if e[0] is not None), key=lambda e: (e[0], e[1]))
    return _CompiledRange(
        scheme=scheme,
        events=tuple(lowest + _cancel_ties(rest)),
        limits=None if unlimited or not limits else tuple(limits),
    )


def _cancel_ties(events: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """Drop ``introduced``/``fixed`` pairs at the same version: together they change nothing.

    The spec sorts events by version but leaves ties open. ``introduced: X`` with ``fixed: X``
    is an empty interval when nothing was affected before (so X stays unaffected), and a fix
    immediately re-introduced when something was (so X stays affected, as OSV's own enumerated
    ``versions`` lists show for advisories whose ranges were merged, e.g. PYSEC-2022-236).
    """
    out: list[tuple[Any, int]] = []
    i = 0
    while i < len(events):
        j = i + 1
        while j < len(events) and events[j][0] == events[i][0]:
            j += 1
        group = [kind for _key, kind in events[i:j]]
        pairs = min(group.count(_INTRODUCED), group.count(_FIXED))
        for kind in (_INTRODUCED, _FIXED, _LAST_AFFECTED):
            n = group.count(kind) - (pairs if kind != _LAST_AFFECTED else 0)
            out.extend([(events[i][0], kind)] * n)
        i = j
    return out


_BY_ID: dict[int, tuple[Affected, _Compiled]] = {}
_BY_ID_MAX = 1 << 16


def _compile(affected: Affected) -> _Compiled:
    """The compiled form of ``affected``, cached by identity.

    Hashing a frozen ``Affected`` walks all its nested tuples on every call, which would cost
    more than the evaluation; the cache keeps the object alive so its ``id`` cannot be reused.
    Equal but distinct objects share the value-keyed cache behind it.
    """
    hit = _BY_ID.get(id(affected))
    if hit is not None and hit[0] is affected:
        return hit[1]
    if len(_BY_ID) >= _BY_ID_MAX:
        _BY_ID.clear()
    compiled = _compile_value(affected)
    _BY_ID[id(affected)] = (affected, compiled)
    return compiled


@lru_cache(maxsize=1 << 14)
def _compile_value(affected: Affected) -> _Compiled:
    scheme = scheme_for(affected.ecosystem)
    ranges: list[_CompiledRange] = []
    for r in affected.ranges:
        rtype = r.type.upper()
        if rtype == "SEMVER":
            rscheme = SCHEMES["semver"]
        elif rtype == "ECOSYSTEM":
            rscheme = scheme
        else:
            continue
        ranges.append(_compile_range(rscheme, [(e.kind, e.value) for e in r.events]))
    return _Compiled(raw_versions=affected.versions, scheme=scheme, ranges=tuple(ranges))


def _in_range(r: _CompiledRange, version: str) -> bool:
    v = r.scheme.key(version)
    if r.limits is not None and not any(v < lim for lim in r.limits):
        return False
    affected = False
    for key, kind in r.events:
        if key is not None and v < key:
            break  # sorted: no later event can apply
        if kind == _INTRODUCED:
            affected = True
        elif kind == _FIXED or key < v:  # last_affected closes only strictly above itself
            affected = False
    return affected


def is_affected(affected: Affected, version: str) -> bool:
    """True when ``version`` of the package is affected per the OSV evaluation rules."""
    if not version or not version.strip():
        return False
    compiled = _compile(affected)
    if any(_in_range(r, version) for r in compiled.ranges):
        return True
    if not compiled.raw_versions:
        return False
    if version in compiled.raw_versions:
        return True
    return compiled.scheme.normalize(version) in compiled.versions


def fixed_versions(affected: Affected) -> tuple[str, ...]:
    """The distinct ``fixed`` versions of the version ranges (not GIT commits), oldest first."""
    scheme = scheme_for(affected.ecosystem)
    seen: dict[str, Scheme] = {}
    for r in affected.ranges:
        rtype = r.type.upper()
        if rtype not in ("ECOSYSTEM", "SEMVER"):
            continue
        for e in r.events:
            if e.kind == "fixed" and e.value and e.value not in seen:
                seen[e.value] = SCHEMES["semver"] if rtype == "SEMVER" else scheme
    return tuple(sorted(seen, key=scheme.key))
