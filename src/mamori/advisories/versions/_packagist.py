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

Invalid versions and branches, as Composer defines them: a string ``VersionParser::normalize``
throws on (``1.2.3.#``, ``1.2.3.4.5``, ``foo``) is invalid (:func:`is_valid` False); it sorts
below every valid version, among invalid ones in the generic order. Branches (``dev-main``,
``master``, ``1.0.x-dev`` → ``1.0.9999999.9999999-dev``) are valid: a numeric branch is an
ordinary version; a named branch (``dev-…``) is older than every numbered version, as
``version_compare`` says, and two different named branches, which Composer never orders, are
ordered by name (equal only when spelt alike after normalisation).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mamori.advisories.versions import _generic

# Composer\Semver\VersionParser (3.3), translated regex for regex; PCRE's \d and \s are ASCII.
_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_FLAGS = re.IGNORECASE | re.ASCII
_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$", re.ASCII)
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", _FLAGS)
_BUILD = re.compile(r"^([^,\s+]++)\+[^\s]++$", re.ASCII)
_CLASSIC = re.compile(r"^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER + "$", _FLAGS)
_DATE = re.compile(r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + _MODIFIER + "$", _FLAGS)
_DEV_SUFFIX = re.compile(r"(.*?)[.-]?dev$", _FLAGS)
_BRANCH = re.compile(r"^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$", _FLAGS)
_EXPAND = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}
_PHP_TRIM = " \t\n\r\0\x0b"
_LONG_MAX = 2**63 - 1

# PHP's special forms in the order version_compare tests them (first prefix match wins).
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3), ("#", 4))
_FORMS_POST = (("pl", 5), ("p", 5))
_NUMBER_RANK = 4
_END = (_NUMBER_RANK, -1)
_ASCII_DIGITS = frozenset("0123456789")


def _normalize_branch(name: str) -> str:
    m = _BRANCH.match(name.strip(_PHP_TRIM))
    if m is None:
        return "dev-" + name.strip(_PHP_TRIM)
    out = "".join(g.replace("*", "x").replace("X", "x") if g is not None else ".x" for g in m.groups())
    return out.replace("x", "9999999") + "-dev"


def normalize_composer(version: str) -> str | None:
    """Composer's ``VersionParser::normalize`` of ``version``, or None where Composer throws.

    Branches are kept as ``dev-<name>`` (``master``, ``trunk`` and ``default`` become one);
    numeric branches (``1.0.x-dev``) become ``1.0.9999999.9999999-dev``.
    """
    v = version.strip(_PHP_TRIM)
    m = _ALIAS.match(v)
    if m:
        v = m.group(1)
    m = _STABILITY_FLAG.search(v)
    if m:
        v = v[: m.start()]
    if v in ("master", "trunk", "default"):
        v = "dev-" + v
    if v[:4].lower() == "dev-":
        return "dev-" + v[4:]
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
        if m is not None:
            g = m.groups()
            out = re.sub(r"\D", ".", g[0], flags=re.ASCII)
            mod, mod_num, dev = g[1], g[2], g[3]
    if m is not None:
        if mod:
            if mod == "stable":  # PHP's ===: "STABLE" falls through and is spelt out
                return out
            out += "-" + _EXPAND.get(mod.lower(), mod.lower()) + (mod_num or "").lstrip(".-")
        if dev:
            out += "-dev"
        return out
    m = _DEV_SUFFIX.match(v)
    if m:
        branch = _normalize_branch(m.group(1))
        if "dev-" not in branch:
            return branch
    return None


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
        elif (c not in _ASCII_DIGITS and c != "." and prev in _ASCII_DIGITS) or (
            c in _ASCII_DIGITS and prev not in _ASCII_DIGITS and prev != "."
        ):
            if out[-1] != ".":
                out.append(".")
            out.append(c)
        elif not (c.isascii() and c.isalnum()):
            if out[-1] != ".":
                out.append(".")
        else:
            out.append(c)
        prev = c
    return "".join(out).split(".")


def php_key(v: str) -> tuple[tuple[int, int], ...]:
    """A key ordering Composer-normalised versions as PHP's ``version_compare`` does.

    Numbers are C ``long`` values (``strtol`` saturates at 2**63-1). A normalised non-branch
    version holds no ``#`` word, so no part ranks like "a number" and every comparison is
    decided by the first differing part or by a remaining part against PHP's ``#N#``.
    """
    items: list[tuple[int, int]] = []
    for part in _canonical_parts(v):
        if part[:1] in _ASCII_DIGITS and part:
            digits = re.match(r"[0-9]+", part)
            items.append((_NUMBER_RANK, min(int(digits.group(0)), _LONG_MAX) if digits else 0))
        else:
            items.append((_form_rank(part), 0))
    items.append(_END)
    return tuple(items)


@lru_cache(maxsize=1 << 16)
def key(version: str) -> tuple[Any, ...]:
    """Total-order key: ``(1, 1, php_key)``, a branch ``(1, 0, name)``, invalid ``(0, generic)``."""
    norm = normalize_composer(version)
    if norm is None:
        return (0, _generic.key(version))
    if norm.startswith("dev-"):
        return (1, 0, norm)
    return (1, 1, php_key(norm))


def is_valid(version: str) -> bool:
    """True when Composer's ``VersionParser::normalize`` accepts ``version`` (branches too)."""
    return normalize_composer(version) is not None


def normalize(version: str) -> str:
    """Composer's normalised form (``v1.2-beta1`` → ``1.2.0.0-beta1``), else the stripped input."""
    return normalize_composer(version) or version.strip()
