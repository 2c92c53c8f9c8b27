"""Does an advisory affect *every* version a manifest's range allows?

A manifest that pins nothing (``flask>=0.12``, ``"lodash": "^4.17.0"``) cannot be matched
exactly, but some advisories still apply whatever is installed: one affecting every Flask
before 2.3.2 applies to ``flask<1.0`` with certainty. This module turns a range into intervals
of the ecosystem's version order and checks them against an OSV ``affected[]`` entry's ranges
(the same event semantics as :mod:`mamori.advisories.ranges`). Only such certain matches are
reported (``match: every-version``); everything else about the range stays unchecked.

Ranges are read for PyPI (PEP 440 specifiers) and npm (node-semver ranges). Both readers err
towards a *larger* set than the range allows (``!=`` exclusions and npm's pre-release rule are
ignored): a larger set inside the affected versions implies the real one is, so a reported
match is never wrong; some certain matches may be missed. Unknown syntax gives None (no
claim at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mamori.advisories.interface import Affected
from mamori.advisories.versions import SCHEMES, scheme_for

__all__ = ["Interval", "affects_every_version", "allowed_intervals", "interval_contains"]


@dataclass(frozen=True, slots=True)
class Interval:
    """Versions between ``low`` and ``high`` (strings; ``None`` = unbounded), ends in or out."""

    low: str | None
    low_in: bool
    high: str | None
    high_in: bool


_ALL = Interval(None, False, None, False)


def allowed_intervals(ecosystem: str, spec: str) -> list[Interval] | None:
    """The versions ``spec`` allows as intervals, or None when it is not a range we read."""
    spec = spec.strip()
    if spec in ("", "*"):
        return [_ALL]
    if ecosystem == "PyPI":
        return _pep440(spec)
    if ecosystem == "npm":
        return _npm(spec)
    return None


# --- PEP 440 --------------------------------------------------------------------------------

_PEP440_CLAUSE = re.compile(r"^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$")


def _pep440(spec: str) -> list[Interval] | None:
    current = _ALL
    for raw in spec.split(","):
        m = _PEP440_CLAUSE.match(raw.strip())
        if m is None:
            return None
        op, version = m.groups()
        if op == "!=":
            continue  # excluding a point only makes the set smaller: ignoring it is safe
        clause = _pep440_clause(op, version)
        if clause is None:
            return None
        current_or_none = _intersect("PyPI", current, clause)
        if current_or_none is None:
            return []
        current = current_or_none
    return [current]


def _pep440_clause(op: str, version: str) -> Interval | None:
    if version.endswith(".*"):
        if op != "==":
            return None
        parts = version[:-2].split(".")
        if not parts or not all(p.isdigit() for p in parts):
            return None
        upper = [*parts[:-1], str(int(parts[-1]) + 1)]
        return Interval(".".join(parts) + ".dev0", True, ".".join(upper) + ".dev0", False)
    if op in ("==", "==="):
        return Interval(version, True, version, True)
    if op == ">=":
        return Interval(version, True, None, False)
    if op == ">":
        return Interval(version, False, None, False)
    if op == "<=":
        return Interval(None, False, version, True)
    if op == "<":
        return Interval(None, False, version, False)
    # ~=a.b.c allows >=a.b.c, ==a.b.*
    release = re.match(r"^(\d+(?:\.\d+)+)", version)
    if release is None:
        return None
    parts = release.group(1).split(".")
    upper = [*parts[:-2], str(int(parts[-2]) + 1)]
    return Interval(version, True, ".".join(upper) + ".dev0", False)


# --- npm ------------------------------------------------------------------------------------

_NPM_PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(-[0-9A-Za-z.-]+)?(\+\S*)?$")
_NPM_OP = re.compile(r"^(<=|>=|<|>|=|\^|~>|~)?\s*(\S+)$")


def _npm(spec: str) -> list[Interval] | None:
    out: list[Interval] = []
    for alternative in spec.split("||"):
        text = alternative.strip()
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", text)
        comparators = [f">={hyphen.group(1)}", f"<={hyphen.group(2)}"] if hyphen else text.split()
        current = _ALL
        empty = False
        for comp in comparators or ["*"]:
            clause = _npm_clause(comp)
            if clause is None:
                return None
            joined = _intersect("npm", current, clause)
            if joined is None:
                empty = True
                break
            current = joined
        if not empty:
            out.append(current)
    return out


def _npm_clause(text: str) -> Interval | None:
    m = _NPM_OP.match(text)
    if m is None:
        return None
    op, version = m.group(1) or "", m.group(2)
    p = _NPM_PARTIAL.match(version)
    if p is None:
        return None
    major, minor, patch, pre = p.group(1), p.group(2), p.group(3), p.group(4) or ""
    nums = [n for n in (major, minor, patch) if n is not None and n not in "xX*"]
    if not nums:
        return _ALL if op in ("", "=", ">=", "<=", "^", "~", "~>") else None
    ints = [int(n) for n in nums]
    full = ".".join(str(n) for n in ints + [0] * (3 - len(ints))) + (pre if len(ints) == 3 else "")
    if op in ("", "="):
        if len(ints) == 3:
            return Interval(full, True, full, True)
        return Interval(full, True, _bump(ints, len(ints) - 1), False)
    if op == ">=":
        return Interval(full, True, None, False)
    if op == ">":
        if len(ints) == 3:
            return Interval(full, False, None, False)
        return Interval(_bump(ints, len(ints) - 1), True, None, False)
    if op == "<":
        return Interval(None, False, full if len(ints) == 3 else full + "-0", False)
    if op == "<=":
        if len(ints) == 3:
            return Interval(None, False, full, True)
        return Interval(None, False, _bump(ints, len(ints) - 1), False)
    if op in ("~", "~>"):
        return Interval(full, True, _bump(ints, 0 if len(ints) == 1 else 1), False)
    # caret: the left-most non-zero part stays fixed
    first = next((i for i, n in enumerate(ints) if n != 0), len(ints) - 1)
    if len(ints) < 3 and all(n == 0 for n in ints):
        first = len(ints) - 1
    return Interval(full, True, _bump(ints, first), False)


def _bump(ints: list[int], index: int) -> str:
    """The lowest version above every version sharing ``ints[:index + 1]`` (``X-0``)."""
    head = [*ints[:index], ints[index] + 1]
    return ".".join(str(n) for n in head + [0] * (3 - len(head))) + "-0"


# --- interval algebra on the ecosystem's order ---------------------------------------------


def _low_key(scheme_key: Any, bound: str | None, inclusive: bool) -> tuple[int, Any, int]:
    if bound is None:
        return (0, (), 0)
    return (1, scheme_key(bound), 0 if inclusive else 1)


def _high_key(scheme_key: Any, bound: str | None, inclusive: bool) -> tuple[int, Any, int]:
    if bound is None:
        return (2, (), 0)
    return (1, scheme_key(bound), 1 if inclusive else 0)


def _intersect(ecosystem: str, a: Interval, b: Interval) -> Interval | None:
    key = scheme_for(ecosystem).key
    low = max((a, b), key=lambda i: _low_key(key, i.low, i.low_in))
    high = min((a, b), key=lambda i: _high_key(key, i.high, i.high_in))
    out = Interval(low.low, low.low_in, high.high, high.high_in)
    return out if _nonempty(key, out) else None


def _nonempty(key: Any, i: Interval) -> bool:
    if i.low is None or i.high is None:
        return True
    lo, hi = key(i.low), key(i.high)
    return lo < hi or (lo == hi and i.low_in and i.high_in)


def _affected_intervals(affected: Affected) -> list[tuple[Any, Interval]]:
    """Each version range of ``affected`` as intervals (with the scheme key to compare them)."""
    out: list[tuple[Any, Interval]] = []
    for r in affected.ranges:
        kind = r.type.upper()
        if kind not in ("ECOSYSTEM", "SEMVER"):
            continue
        scheme = SCHEMES["semver"] if kind == "SEMVER" else scheme_for(affected.ecosystem)
        limits = [e.value for e in r.events if e.kind == "limit" and e.value != "*"]
        events = [(e.kind, e.value) for e in r.events if e.kind in ("introduced", "fixed", "last_affected")]
        ordered = sorted(
            events,
            key=lambda e: (
                (0, (), 0) if e == ("introduced", "0") else (1, scheme.key(e[1]), e[0] != "introduced")
            ),
        )
        start: tuple[str | None, bool] | None = None
        for ev, value in ordered:
            if ev == "introduced" and start is None:
                start = (None, False) if value == "0" else (value, True)
            elif ev in ("fixed", "last_affected") and start is not None:
                out.append((scheme, Interval(start[0], start[1], value, ev == "last_affected")))
                start = None
        if start is not None:
            out.append((scheme, Interval(start[0], start[1], None, False)))
        if limits:
            top = max(limits, key=scheme.key)
            out = [(s, _clip(s.key, i, top)) if s is scheme else (s, i) for s, i in out]
    return out


def _clip(key: Any, i: Interval, top: str) -> Interval:
    if i.high is None or key(i.high) > key(top):
        return Interval(i.low, i.low_in, top, False)
    return i


def _contains(key: Any, outer: Interval, inner: Interval) -> bool:
    if _low_key(key, outer.low, outer.low_in) > _low_key(key, inner.low, inner.low_in):
        return False
    return _high_key(key, outer.high, outer.high_in) >= _high_key(key, inner.high, inner.high_in)


def affects_every_version(affected: Affected, allowed: list[Interval]) -> bool:
    """True when every version in ``allowed`` is inside one of ``affected``'s version ranges.

    An empty ``allowed`` (a range that allows nothing) is never affected. Each allowed interval
    must sit inside a single affected interval: adjoining affected intervals are not merged,
    which can only miss a match, never invent one.
    """
    if not allowed:
        return False
    spans = _affected_intervals(affected)
    return all(any(_contains(s.key, span, want) for s, span in spans) for want in allowed)


def interval_contains(ecosystem: str, interval: Interval, version: str) -> bool:
    """Whether ``version`` lies in ``interval`` in ``ecosystem``'s version order."""
    key = scheme_for(ecosystem).key
    return _contains(key, interval, Interval(version, True, version, True))
