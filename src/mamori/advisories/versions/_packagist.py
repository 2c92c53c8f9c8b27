"""Packagist (Composer) version ordering.

Composer first normalises a version (``VersionParser::normalize``): an optional ``v``, one to four
numeric parts padded to four (``1.2`` → ``1.2.0.0``), date versions, and a stability modifier
expanded to its long name (``a``→alpha, ``b``→beta, ``rc``→RC, ``p``/``pl``→patch, plus
``-dev``); build metadata is dropped. It then compares the normalised strings with PHP's
``version_compare``: parts split at ``.``, ``-``, ``_``, ``+`` and at digit/non-digit boundaries;
numbers numerically; words by their special-form rank, matched by prefix — anything unknown <
``dev`` < ``alpha``/``a`` < ``beta``/``b`` < ``RC``/``rc`` < a number < ``pl``/``p`` (``patch``
starts with ``p``); when one side runs out, a remaining number makes that side newer and a
remaining word is ranked against a number. So ``1.0.0-dev`` < ``1.0.0-alpha1`` < ``1.0.0-RC1`` <
``1.0.0`` < ``1.0.0-patch1`` < ``1.0.0.1``.

Branch versions (``dev-main``) and anything Composer rejects sort below valid versions in the
generic order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_CLASSIC = re.compile(r"^v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER + "$", re.IGNORECASE | re.ASCII)
_DATE = re.compile(
    r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})" + _MODIFIER + "$", re.IGNORECASE | re.ASCII
)
_BUILD = re.compile(r"^([^,\s+]++)\+[^\s]++$")
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.IGNORECASE | re.ASCII)
_EXPAND = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}

# PHP's special forms in the order version_compare tests them (first prefix match wins).
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3), ("#", 4))
_FORMS_POST = (("pl", 5), ("p", 5))
_NUMBER_RANK = 4
_END = (_NUMBER_RANK, -1)


def normalize_composer(version: str) -> str | None:
    """Composer's normalised form of a concrete version, or None when Composer rejects it."""
    v = version.strip()
    v = _STABILITY_FLAG.sub("", v)
    if v.lower().startswith("dev-") or v in ("master", "trunk", "default"):
        return None
    m = _BUILD.match(v)
    if m:
        v = m.group(1)
    m = _CLASSIC.match(v)
    if m:
        g = m.groups()
        out = g[0] + (g[1] or ".0") + (g[2] or ".0") + (g[3] or ".0")
        mod, mod_num, dev = g[4], g[5], g[6]
    else:
        m = _DATE.match(v)
        if m is None:
            return None
        g = m.groups()
        out = re.sub(r"\D", ".", g[0])
        mod, mod_num, dev = g[1], g[2], g[3]
    if mod:
        if mod.lower() == "stable":
            return out
        out += "-" + _EXPAND.get(mod.lower(), mod.lower()) + (mod_num or "").lstrip(".-")
    if dev:
        out += "-dev"
    return out


def _form_rank(word: str) -> int:
    for name, rank in (*_FORMS, *_FORMS_POST):
        if word.startswith(name):
            return rank
    return -1


def _canonical_parts(v: str) -> list[str]:
    """PHP's ``php_canonicalize_version`` followed by the split at dots."""
    out: list[str] = [v[0]]
    prev = v[0]
    for c in v[1:]:
        if c in "-_+":
            if out[-1] != ".":
                out.append(".")
        elif (not c.isdigit() and c != "." and prev.isdigit()) or (
            c.isdigit() and not prev.isdigit() and prev != "."
        ):
            if out[-1] != ".":
                out.append(".")
            out.append(c)
        elif not c.isalnum():
            if out[-1] != ".":
                out.append(".")
        else:
            out.append(c)
        prev = c
    return "".join(out).split(".")


def php_key(v: str) -> tuple[tuple[int, int], ...]:
    """A key ordering strings as PHP's ``version_compare`` does (for non-empty ``v``)."""
    items: list[tuple[int, int]] = []
    for part in _canonical_parts(v):
        if part[:1].isdigit():
            digits = re.match(r"\d+", part)
            items.append((_NUMBER_RANK, int(digits.group(0)) if digits else 0))
        else:
            items.append((_form_rank(part), 0))
    items.append(_END)
    return tuple(items)


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: valid ``(1, php_key(normalised))``, invalid ``(0, generic)``."""
    norm = normalize_composer(version)
    if norm is None:
        return (0, _generic.key(version))
    return (1, php_key(norm))


def is_valid(version: str) -> bool:
    """True when Composer normalises ``version`` to a concrete (non-branch) version."""
    return normalize_composer(version) is not None


def normalize(version: str) -> str:
    """Composer's normalised form (``v1.2-beta1`` → ``1.2.0.0-beta1``), else the stripped input."""
    return normalize_composer(version) or version.strip()
