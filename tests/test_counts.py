"""Counts a user reads agree in number: "1 event", never "1 events" or "finding(s)".

The class is fixed in one place, :func:`mamori._text.count`; this test keeps every f-string of
the package from building a count another way (a formatted number directly followed by a
plural noun, or a ``(s)``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mamori._text import count, plural

SRC = Path(__file__).resolve().parents[1] / "src" / "mamori"

_NOUNS = (
    "events|alerts|rules|findings|files|problems|errors|advisories|entries|objects|indicators|"
    "fixes|items|components|projects|jobs|records|tests|requests|scores|CVEs|proposals|attempts|"
    "organisations|sessions|tokens|collections|packages|lines|statements|results|matches|"
    "vulnerabilities|dependencies|changes|additions|projects|workers|branches|notices|hosts"
)
_PLURAL_AFTER_NUMBER = re.compile(rf"^ (?:[a-z-]+ )?(?:{_NOUNS})\b")
_PARENTHESISED = re.compile(r"\w\(s\)")


_NOT_COUNTS = {
    ("coverage.py", "eco"),  # "no PyPI advisories": an ecosystem's name
    ("fix/fixers/codeinj.py", "q"),  # "eval runs statements": a function's name
    ("_safejson.py", "containers"),  # only said of more than 100,000
    ("advisories/freshness.py", "eco"),  # "PyPI advisories published since": a name
    # "declares"/"declare" agrees with the files named before it
    ("output/table.py", "'s' if len(cov.files) == 1 else ''"),
}
"""Formatted values followed by a plural noun that are not counts of it (or never 1)."""


def _is_constant(expr: ast.expr) -> bool:
    """A limit spelt as a constant (``MAX_LINE``, ``lim.max_zip_entries``) is never 1."""
    name = expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""
    return name.isupper() or name.startswith(("max_", "MAX"))


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        parts = node.values
        for i, part in enumerate(parts):
            if (
                isinstance(part, ast.Constant)
                and isinstance(part.value, str)
                and _PARENTHESISED.search(part.value)
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: '(s)' in {part.value!r}")
            if not isinstance(part, ast.FormattedValue) or i + 1 >= len(parts):
                continue
            nxt = parts[i + 1]
            if (
                isinstance(nxt, ast.Constant)
                and isinstance(nxt.value, str)
                and _PLURAL_AFTER_NUMBER.match(nxt.value)
                and not _is_constant(part.value)
                and (str(path.relative_to(SRC)), ast.unparse(part.value)) not in _NOT_COUNTS
            ):
                found.append(
                    f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(part.value)}{nxt.value[:30]!r}"
                )
    return found


def test_no_count_is_built_outside_count() -> None:
    offences = [o for p in sorted(SRC.rglob("*.py")) for o in _offences(p)]
    assert not offences, "use mamori._text.count for these counts:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (0, "event", "0 events"),
        (1, "event", "1 event"),
        (2, "event", "2 events"),
        (1, "advisory", "1 advisory"),
        (2_661, "advisory", "2,661 advisories"),
        (3, "entry", "3 entries"),
        (2, "fix", "2 fixes"),
        (2, "code finding", "2 code findings"),
        (1, "code finding", "1 code finding"),
        (2, "key", "2 keys"),
        (5, "CVE", "5 CVEs"),
    ],
)
def test_count(n: int, noun: str, expected: str) -> None:
    assert count(n, noun) == expected


def test_plural_override() -> None:
    assert count(2, "person", "people") == "2 people"
    assert count(1, "person", "people") == "1 person"
    assert plural("rule") == "rules"
