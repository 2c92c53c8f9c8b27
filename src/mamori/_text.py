"""Counts as people read them: ``1 event``, ``2 events``, ``1,204 advisories``.

Every count a user reads (a summary line, a progress message, a log line of ``mamori watch``, a
STIX description) goes through :func:`count`, so that no message says "1 events" or "finding(s)".
``tests/test_counts.py`` checks that no f-string in the package builds a count any other way.
"""

from __future__ import annotations

__all__ = ["count", "plural"]

_IRREGULAR = {
    "advisory": "advisories",
    "entry": "entries",
    "vulnerability": "vulnerabilities",
    "dependency": "dependencies",
    "library": "libraries",
    "property": "properties",
    "index": "indexes",
    "match": "matches",
    "fix": "fixes",
    "process": "processes",
    "address": "addresses",
    "status": "statuses",
    "child": "children",
}


def plural(noun: str) -> str:
    """The plural of ``noun`` (its last word: ``code finding`` → ``code findings``)."""
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        out = _IRREGULAR[lower]
        out = out if last.islower() else out.capitalize() if last[:1].isupper() else out
    elif lower.endswith(("s", "x", "sh", "ch")):
        out = last + "es"
    elif lower.endswith("y") and lower[-2:-1] not in tuple("aeiou"):
        out = last[:-1] + "ies"
    else:
        out = last + "s"
    return f"{head} {out}" if head else out


def count(n: int, noun: str, many: str | None = None) -> str:
    """``n`` with ``noun`` in the number it needs, thousands separated: ``count(1, "event")`` is
    ``1 event``, ``count(3, "event")`` is ``3 events``; ``many`` overrides the plural."""
    word = noun if n == 1 else (many or plural(noun))
    return f"{n:,} {word}"
