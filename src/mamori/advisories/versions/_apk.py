"""Alpine package version ordering (apk-tools ``apk_version_compare``, 2.14 / 3.x).

An apk version is ``digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-r#}``. apk-tools reads
it as a stream of typed tokens and compares them pairwise while their types agree: numbers
numerically, except that a dotted part with a leading zero on either side compares as a string
(``1.01`` < ``1.1``, Gentoo's rule); the letter by character; suffixes by rank
``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < (none) < ``_cvs`` < ``_svn`` < ``_git`` < ``_hg`` < ``_p``;
commit hashes as strings. When the types differ, a pre-release suffix is older than anything,
otherwise the token type further along the grammar is older (the end is furthest) — so
``1.0_rc1`` < ``1.0`` < ``1.0-r1`` < ``1.0_p1`` < ``1.0a`` < ``1.0.1``.

Numbers are apk's ``uint64_t`` (a longer digit run wraps around modulo 2**64, as in apk).

The key is the sequence of (type rank, value) pairs, which tuple comparison orders exactly like
apk's loop. A version apk calls invalid (:func:`is_valid` False: ``apk_version_validate`` fails)
is compared the way ``apk_version_compare`` compares it: token by token up to the first token
apk cannot read, which counts as a token type beyond the end. So ``1.0.x`` < ``1.0`` (the bad
token is older than the end), ``6.6.2p1`` (invalid: a digit after the letter) > ``6.6.2_p1``, and
two strings invalid at the same point after equal tokens are *equal* (``1-r`` == ``1-x``; every
string not starting with a digit equals every other), which is apk's answer too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

INITIAL_DIGIT, DIGIT, LETTER, SUFFIX, SUFFIX_NO, COMMIT_HASH, REVISION_NO, END, INVALID = range(9)
_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_SUFFIX_NONE = 5
_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"
_WRAP = 1 << 64


def _span(s: str, pos: int, chars: str) -> int:
    end = pos
    while end < len(s) and s[end] in chars:
        end += 1
    return end


def tokens(version: str) -> list[tuple[int, Any]]:
    """(type, value) tokens as apk reads them; the last one is END or INVALID."""
    s = version
    out: list[tuple[int, Any]] = []
    end = _span(s, 0, _DIGITS)
    if end == 0:
        return [(INVALID, 0)]
    out.append((INITIAL_DIGIT, int(s[:end]) % _WRAP))
    pos, prev = end, INITIAL_DIGIT
    while True:
        if pos >= len(s):
            out.append((END, 0))
            return out
        c = s[pos]
        tok: tuple[int, Any] | None = None
        if c in _LOWER:
            if prev <= DIGIT:
                tok, pos = (LETTER, c), pos + 1
        elif c == "." or c in _DIGITS:
            if c == ".":
                pos += 1
            kind = DIGIT if prev in (INITIAL_DIGIT, DIGIT) and c == "." else None
            if c != "." and prev == SUFFIX:
                kind = SUFFIX_NO
            elif c != "." and prev in (INITIAL_DIGIT, DIGIT):
                kind = DIGIT
            if kind is not None:
                end = _span(s, pos, _DIGITS)
                if end > pos:
                    digits = s[pos:end]
                    if kind == DIGIT and digits[0] == "0":
                        value: Any = (0, digits)
                    elif kind == DIGIT:
                        value = (1, int(digits) % _WRAP)
                    else:
                        value = int(digits) % _WRAP
                    tok, pos = (kind, value), end
        elif c == "_":
            if prev <= SUFFIX_NO:
                end = _span(s, pos + 1, _LOWER)
                rank = _SUFFIXES.get(s[pos + 1 : end])
                if rank is not None:
                    tok, pos = (SUFFIX, rank), end
        elif c == "~":
            if prev < COMMIT_HASH:
                end = _span(s, pos + 1, _HEX)
                if end > pos + 1:
                    tok, pos = (COMMIT_HASH, s[pos + 1 : end]), end
        elif c == "-" and prev < REVISION_NO and s.startswith("-r", pos):
            end = _span(s, pos + 2, _DIGITS)
            if end > pos + 2:
                tok, pos = (REVISION_NO, int(s[pos + 2 : end]) % _WRAP), end
        if tok is None:
            out.append((INVALID, 0))
            return out
        out.append(tok)
        prev = tok[0]


def _rank(kind: int, value: Any) -> int:
    if kind == SUFFIX and value < _SUFFIX_NONE:
        return -100
    return -kind


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key (see module docstring), for valid and invalid versions alike."""
    toks = tokens(version)
    return tuple((_rank(kind, value), 0 if kind == INVALID else value) for kind, value in toks)


def is_valid(version: str) -> bool:
    """apk's ``apk_version_validate``: the whole string reads as tokens up to the end."""
    return tokens(version)[-1][0] == END


def normalize(version: str) -> str:
    """The version as written (apk strips nothing: `` 1.0`` is invalid and differs from ``1.0``)."""
    return version
