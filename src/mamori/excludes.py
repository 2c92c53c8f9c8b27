"""Which files a scan leaves out: ``--exclude GLOB`` and a ``.mamoriignore`` file.

Patterns follow gitignore's rules for the common cases: a pattern without a slash (``*.min.js``,
``generated``) matches a file or folder name at any depth; one with a slash is anchored at the
scan root (``docs/build``, ``/legacy``); a trailing slash matches folders only; ``*`` and ``?``
stay within one path segment and ``**`` spans any number of them; ``!pattern`` takes a path back
in; ``#`` starts a comment line. A folder that matches leaves out everything below it.

By default nothing a user wrote is excluded; only :data:`DEFAULT_JS_EXCLUDES` (minified and
vendored JavaScript, never the project's own logic) is not analysed. :func:`is_test_path` names
the test and fixture folders whose findings are marked ``test`` (kept, low confidence).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_JS_EXCLUDES",
    "IGNORE_FILE",
    "Excludes",
    "is_test_path",
    "read_ignore_file",
]

IGNORE_FILE = ".mamoriignore"

DEFAULT_JS_EXCLUDES = ("*.min.js", "vendor/", "static/admin/")
"""JavaScript that is minified or vendored (a library's copy, Django admin's assets): its inline
scripts and pages are not analysed unless a pattern takes them back (``!vendor/``)."""

_TEST_DIRS = frozenset(
    {"test", "tests", "testing", "fixtures", "fixture", "testdata", "test_data", "__tests__", "spec", "specs"}
)


def is_test_path(rel: str) -> bool:
    """Whether ``rel`` (relative, ``/``-separated) lies in a test or fixture folder or is a test module."""
    parts = rel.split("/")
    if any(p.lower() in _TEST_DIRS for p in parts[:-1]):
        return True
    name = parts[-1]
    return (
        (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


@lru_cache(maxsize=512)
def _bracket(glob: str) -> str:
    """The regular expression of one ``[...]`` class, translated by :mod:`fnmatch` (which
    escapes what ``re`` would read otherwise and turns an empty range such as ``[z-a]`` into
    one that matches nothing)."""
    if glob.startswith("[^"):
        glob = "[!" + glob[2:]  # git's wildmatch negates with either
    translated = fnmatch.translate(glob)
    prefix, suffix = "(?s:", ")\\Z"
    if translated.startswith(prefix) and translated.endswith(suffix):
        return "(?:" + translated[len(prefix) : -len(suffix)] + ")"
    return re.escape(glob)


def _compile(body: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if body.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            # as fnmatch: a ``]`` right after ``[`` or ``[!`` is a member, not the end
            j = i + 1
            if j < len(body) and body[j] in "!^":
                j += 1
            if j < len(body) and body[j] == "]":
                j += 1
            j = body.find("]", j)
            if j == -1:
                out.append(re.escape(c))
            else:
                out.append(_bracket(body[i : j + 1]))
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    anchored: bool
    dir_only: bool
    negate: bool

    def matches(self, parts: Sequence[str], is_dir: bool) -> bool:
        """Whether the path (its segments) or one of its folders matches."""
        n = len(parts)
        for k in range(1, n + 1):
            # a folder prefix (k < n) is a folder; the path itself is one only if is_dir
            prefix_is_dir = k < n or is_dir
            if self.dir_only and not prefix_is_dir:
                continue
            if self.anchored:
                if self.regex.match("/".join(parts[:k])):
                    return True
            elif self.regex.match(parts[k - 1]):
                return True
        return False


def _rule(pattern: str) -> _Rule | None:
    p = pattern.strip()
    if not p or p.startswith("#"):
        return None
    negate = p.startswith("!")
    if negate:
        p = p[1:]
    dir_only = p.endswith("/")
    p = p.rstrip("/")
    if not p:
        return None
    anchored = "/" in p
    p = p.lstrip("/")
    if p.startswith("**/"):
        anchored = True  # "**/x" matches x at any depth through the "(?:.*/)?" prefix
    return _Rule(_compile(p), anchored, dir_only, negate)


@dataclass(frozen=True, slots=True)
class Excludes:
    """An ordered list of gitignore-style rules; the last rule that matches a path decides."""

    rules: tuple[_Rule, ...] = ()
    patterns: tuple[str, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str]) -> Excludes:
        """Rules from patterns, in order (later ones win)."""
        kept = tuple(p for p in patterns if _rule(p) is not None)
        return cls(tuple(r for r in (_rule(p) for p in kept) if r is not None), kept)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def excluded(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether ``rel`` (relative to the scan root, ``/``-separated) is left out."""
        parts = [p for p in rel.strip("/").split("/") if p and p != "."]
        if not parts:
            return False
        out = False
        for r in self.rules:
            if r.matches(parts, is_dir):
                out = not r.negate
        return out


def read_ignore_file(root: Path) -> list[str]:
    """The patterns of ``root/.mamoriignore`` (none if it is absent or unreadable)."""
    try:
        text = (root / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [
        line.rstrip("\n") for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
