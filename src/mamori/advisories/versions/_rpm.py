"""RPM version ordering (rpm's ``rpmvercmp`` over ``[epoch:]version[-release]``).

Used for Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE and other RPM distributions. The epoch
(default 0) compares numerically, then version, then release (split at the last hyphen).
``rpmvercmp`` skips every character that is not an ASCII letter, digit, ``~`` or ``^`` and compares
what remains segment by segment: digit runs numerically, letter runs in ASCII order, a digit run
above a letter run; ``~`` sorts below everything including the end of the string (``1.0~rc1`` <
``1.0``), ``^`` above the end but below any segment (``1.0`` < ``1.0^git1`` < ``1.0.1``); when one
side runs out, the side with segments left is newer.

EVR strings are split as rpm's ``parseEVR`` does and compared as ``rpmverCmp`` (rpm 4.18, the
``rpm.vercmp`` of its Lua interface): a missing release sorts below every release, even an empty
one (``1`` < ``1-`` < ``1-0``); the epoch is the digits before a leading colon only (``a:1`` has
no epoch and compares as the version ``a:1``). rpm rejects only the empty string; mamori sorts it
below every version (and :func:`is_valid` says False). Nothing else is invalid to rpm, so nothing
else is to mamori: separators that mean nothing to rpm (``1.0`` == ``1_0``) mean nothing here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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


def split(version: str) -> tuple[int, str, str | None]:
    """(epoch, version, release) as rpm's ``parseEVR`` reads an EVR string (release None = absent).

    The epoch is the run of digits before a colon at the start (an empty one is 0); otherwise
    there is no epoch (and ``a:1`` is all version). The release follows the last hyphen.
    """
    i = 0
    while i < len(version) and version[i] in _DIGITS:
        i += 1
    epoch, rest = 0, version
    if i < len(version) and version[i] == ":":
        epoch, rest = int(version[:i] or "0"), version[i + 1 :]
    hyphen = rest.rfind("-")
    if hyphen < 0:
        return epoch, rest, None
    return epoch, rest[:hyphen], rest[hyphen + 1 :]


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key ``(1, epoch, version, release)``; the empty string gives ``(0,)``."""
    if not version:
        return (0,)
    epoch, ver, rel = split(version)
    return (1, epoch, segments_key(ver), (0,) if rel is None else (1, segments_key(rel)))


def is_valid(version: str) -> bool:
    """rpm's ``rpmverParse``: every non-empty string is an EVR."""
    return bool(version)


def normalize(version: str) -> str:
    """An explicit ``0:`` epoch removed; otherwise as written (rpm strips nothing)."""
    return version[2:] if version.startswith("0:") else version
