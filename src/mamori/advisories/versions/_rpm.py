"""RPM version ordering (rpm's ``rpmvercmp`` over ``[epoch:]version[-release]``).

Used for Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE and other RPM distributions. The epoch
(default 0) compares numerically, then version, then release (split at the last hyphen).
``rpmvercmp`` skips every character that is not an ASCII letter, digit, ``~`` or ``^`` and compares
what remains segment by segment: digit runs numerically, letter runs in ASCII order, a digit run
above a letter run; ``~`` sorts below everything including the end of the string (``1.0~rc1`` <
``1.0``), ``^`` above the end but below any segment (``1.0`` < ``1.0^git1`` < ``1.0.1``); when one
side runs out, the side with segments left is newer.

rpm skips the release comparison when either side has no release, which is not a total order;
here a missing release sorts below every release (``1.0`` < ``1.0-1``), the same answer rpm's
``rpm.vercmp`` gives for full EVR strings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_TILDE = (0,)
_END = (1,)
_CARET = (2,)
_DIGITS = frozenset("0123456789")
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def segments_key(s: str) -> tuple[tuple[Any, ...], ...]:
    """The ``rpmvercmp`` key of one version or release string."""
    out: list[tuple[Any, ...]] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "~":
            out.append(_TILDE)
            i += 1
        elif c == "^":
            out.append(_CARET)
            i += 1
        elif c in _DIGITS:
            j = i
            while j < n and s[j] in _DIGITS:
                j += 1
            out.append((4, int(s[i:j])))
            i = j
        elif c in _ALPHA:
            j = i
            while j < n and s[j] in _ALPHA:
                j += 1
            out.append((3, s[i:j]))
            i = j
        else:
            i += 1
    out.append(_END)
    return tuple(out)


def split(version: str) -> tuple[int, str, str] | None:
    """(epoch, version, release) of an EVR string, or None when the epoch is not numeric."""
    v = version.strip()
    epoch = 0
    if ":" in v:
        e, v = v.split(":", 1)
        if not e.isdigit():
            return None
        epoch = int(e)
    ver, _, rel = v.rpartition("-") if "-" in v else (v, "", "")
    return epoch, ver, rel


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key ``(1, epoch, version, release)``; a bad epoch gives ``(0, generic)``."""
    parts = split(version)
    if parts is None:
        return (0, _generic.key(version))
    epoch, ver, rel = parts
    return (1, epoch, segments_key(ver), segments_key(rel))


def is_valid(version: str) -> bool:
    """A numeric epoch if any, and a non-empty version containing at least one letter or digit."""
    parts = split(version)
    return parts is not None and any(c.isascii() and c.isalnum() for c in parts[1])


def normalize(version: str) -> str:
    """Whitespace stripped and an explicit ``0:`` epoch removed."""
    v = version.strip()
    return v[2:] if v.startswith("0:") else v
