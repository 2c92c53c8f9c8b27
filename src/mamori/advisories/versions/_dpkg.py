"""Debian/Ubuntu package version ordering (dpkg's ``parseversion`` and ``verrevcmp``, 1.21).

A version is ``[epoch:]upstream[-revision]``, read the way ``dpkg --compare-versions`` reads it:
surrounding whitespace is dropped; the epoch is the integer before the first colon (``strtol``
syntax, so ``+1:`` is epoch 1), default 0; the revision follows the *last* hyphen (absent = empty).
Epochs compare numerically, then upstream, then revision. Upstream and revision compare as
alternating non-digit and digit runs: in non-digit runs each byte is weighed — ``~`` below
everything, even the end of the string (so ``1.0~rc1`` < ``1.0``); then the end (or a digit);
then ASCII letters; then bytes above 127 (dpkg's signed ``char``); then all other ASCII
characters. Digit runs compare numerically (an absent run is 0, so ``1.0`` == ``1.00`` and an
empty revision == ``-0``).

Invalid versions, as dpkg defines them:

* dpkg *warns* about some (upstream not starting with a digit, characters outside
  ``[A-Za-z0-9.+~:-]`` in upstream or ``[A-Za-z0-9.+~]`` in the revision) and still compares them:
  so does mamori, by the same rules; :func:`is_valid` is False for them;
* dpkg *rejects* others with an error and gives no order (empty string, embedded whitespace, an
  epoch that is not an integer in ``0..2147483647``, nothing after the colon, an empty upstream or
  revision): they sort below every version dpkg accepts, among themselves in the generic order.

The empty string (and ``<unknown>``) is dpkg's "no version": older than every version dpkg
accepts, equal only to itself (``dpkg --compare-versions`` says so for ``lt``/``eq``/``gt``).

Instead of a pairwise comparison this module builds a tuple key with the same order, so sorting
and matching cost one cached parse per string: every (non-digit run, number) pair becomes a tuple
of byte weights closed by the end weight 0; trailing pairs equal to the padding that an exhausted
string compares as are dropped and two padding pairs close the sequence (two, because only the
first pair can itself equal the padding: ``0~1`` < ``0``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_PART = re.compile(rb"([^0-9]*)([0-9]*)")
_SPACE = " \t\n\v\f\r"
_EPOCH = re.compile(r"[+-]?[0-9]+\Z")
_UPSTREAM_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~:-")
_REVISION_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~")
_INT_MAX = 2**31 - 1

_PAD: tuple[tuple[int, ...], int] = ((0,), 0)


def _weight(c: int) -> int:
    if c == 0x7E:  # ~
        return -1
    if 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A:
        return c
    if c >= 0x80:  # a negative signed char in dpkg's order(): c + 256
        return c
    return c + 256


def _part_key(s: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    data = s.encode("utf-8", "surrogateescape")
    pairs: list[tuple[tuple[int, ...], int]] = []
    pos = 0
    while pos < len(data):
        m = _PART.match(data, pos)
        assert m is not None  # the pattern matches the empty string
        text, digits = m.group(1), m.group(2)
        pairs.append(((*(_weight(c) for c in text), 0), int(digits) if digits else 0))
        pos = m.end()
    while pairs and pairs[-1] == _PAD:
        pairs.pop()
    return (*pairs, _PAD, _PAD)


def parse(version: str) -> tuple[int, str, str, bool] | None:
    """(epoch, upstream, revision, well-formed) as dpkg reads ``version``; None when dpkg rejects it.

    dpkg's "no version" (``""``, ``<unknown>``) gets epoch -1: it is older than every version.
    """
    if version in ("", "<unknown>"):
        return -1, "", "", False
    v = version.lstrip(_SPACE)
    end = 0
    while end < len(v) and v[end] not in _SPACE:
        end += 1
    if not v or v[end:].strip(_SPACE):
        return None
    v = v[:end]
    epoch = 0
    if ":" in v:
        text, v = v.split(":", 1)
        if not _EPOCH.match(text) or not v:
            return None
        epoch = int(text)
        if epoch < 0 or epoch > _INT_MAX:
            return None
    upstream, hyphen, revision = v.rpartition("-")
    if not hyphen:
        upstream, revision = v, ""
    elif not revision:
        return None
    if not upstream:
        return None
    ok = (
        upstream[0] in "0123456789"
        and all(c in _UPSTREAM_CHARS for c in upstream)
        and all(c in _REVISION_CHARS for c in revision)
    )
    return epoch, upstream, revision, ok


def split(version: str) -> tuple[str, str, str] | None:
    """(epoch, upstream, revision) of a Debian version, or None when dpkg rejects it."""
    parsed = parse(version)
    if parsed is None:
        return None
    return str(parsed[0]), parsed[1], parsed[2]


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key ``(1, epoch, upstream, revision)``; a rejected version ``(0, generic)``."""
    parsed = parse(version)
    if parsed is None:
        return (0, _generic.key(version))
    epoch, upstream, revision, _ok = parsed
    return (1, epoch, _part_key(upstream), _part_key(revision))


def is_valid(version: str) -> bool:
    """True when dpkg accepts ``version`` without an error or a warning."""
    parsed = parse(version)
    return parsed is not None and parsed[3]


def normalize(version: str) -> str:
    """Whitespace stripped and an explicit ``0:`` epoch removed (``0:1.0`` is ``1.0``)."""
    v = version.strip()
    return v[2:] if v.startswith("0:") else v
