"""Debian/Ubuntu package version ordering (dpkg's ``verrevcmp``).

A version is ``[epoch:]upstream[-revision]``: the epoch (default 0) compares numerically, then
upstream, then revision (split at the *last* hyphen; absent = empty, which dpkg treats like
``0``). Upstream and revision compare as alternating non-digit and digit runs. In non-digit runs
each character is weighed: ``~`` below everything, even the end of the string (so
``1.0~rc1`` < ``1.0``); then the end; then letters; then all other characters. Digit runs compare
numerically (an absent run is 0).

Instead of a pairwise comparison this module builds a tuple key with the same order, so sorting
and matching cost one cached parse per string: every (non-digit run, number) pair becomes a tuple
of character weights closed by the end weight 0, and the sequence is closed by the padding pair
that an exhausted string compares as.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_PART = re.compile(r"([^0-9]*)([0-9]*)")
_UPSTREAM_OK = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_REVISION_OK = re.compile(r"^[A-Za-z0-9.+~]+$")

_PAD: tuple[tuple[int, ...], int] = ((0,), 0)


def _weight(c: str) -> int:
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def _part_key(s: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    pairs: list[tuple[tuple[int, ...], int]] = []
    pos = 0
    while pos < len(s):
        m = _PART.match(s, pos)
        assert m is not None  # the pattern matches the empty string
        text, digits = m.group(1), m.group(2)
        pairs.append(((*(_weight(c) for c in text), 0), int(digits) if digits else 0))
        pos = m.end()
    # Only the first pair can equal the padding (empty text, number 0): drop it so that an
    # exhausted string and explicit padding compare alike ("0.1" == ".1" in dpkg).
    if pairs and pairs[0] == _PAD:
        pairs.pop(0)
    pairs.append(_PAD)
    return tuple(pairs)


def split(version: str) -> tuple[str, str, str] | None:
    """(epoch, upstream, revision) of a Debian version, or None when the epoch is not numeric."""
    v = version.strip()
    epoch = "0"
    if ":" in v:
        epoch, v = v.split(":", 1)
        if not epoch.isdigit():
            return None
    upstream, _, revision = v.rpartition("-") if "-" in v else (v, "", "")
    return epoch, upstream, revision


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key ``(1, epoch, upstream, revision)``; a bad epoch gives ``(0, generic)``."""
    parts = split(version)
    if parts is None:
        return (0, _generic.key(version))
    epoch, upstream, revision = parts
    return (1, int(epoch), _part_key(upstream), _part_key(revision))


def is_valid(version: str) -> bool:
    """dpkg's syntax: numeric epoch, upstream starting with a digit, revision of allowed characters."""
    parts = split(version)
    if parts is None or version != version.strip():
        return False
    _epoch, upstream, revision = parts
    if not _UPSTREAM_OK.match(upstream):
        return False
    return "-" not in version.split(":", 1)[-1] or bool(_REVISION_OK.match(revision))


def normalize(version: str) -> str:
    """Whitespace stripped and an explicit ``0:`` epoch removed (``0:1.0`` is ``1.0``)."""
    v = version.strip()
    return v[2:] if v.startswith("0:") else v
