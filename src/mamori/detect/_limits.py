"""Size caps on a Sigma rule, checked before pySigma sees it.

pySigma parses a rule's ``condition`` with a recursive pyparsing grammar and builds one Python
object per term, so a condition of thousands of nested parentheses or hundreds of thousands of
terms costs hundreds of MB and tens of seconds before anything can be said about it. A rule file
is hostile input like any other, so each rule document is measured here in one linear pass over
its text first, and a rule over a cap is refused with its line; the other rules of the file and of
the set still load.

The caps are far above every rule of SigmaHQ's ruleset (measured on its 4,047 detection rules,
August 2026: longest condition 551 characters, deepest parentheses 2, most terms 59, one condition
per rule, most detection items 34, most values in one rule 4,432).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mamori._text import count

MAX_CONDITION_CHARS = 10_000
"""Longest condition string accepted (SigmaHQ: 551)."""

MAX_CONDITION_DEPTH = 32
"""Deepest parenthesis nesting accepted in a condition (SigmaHQ: 2)."""

MAX_CONDITION_TERMS = 1_000
"""Most terms (names, operators, ``1 of`` …) accepted in a condition (SigmaHQ: 59)."""

MAX_CONDITIONS = 100
"""Most conditions in one rule's condition list (SigmaHQ: 1)."""

MAX_DETECTION_ITEMS = 1_000
"""Most search identifiers (selections, filters) in one detection (SigmaHQ: 34)."""

MAX_DETECTION_VALUES = 50_000
"""Most values across one rule's detection items (SigmaHQ: 4,432)."""

_TOKEN = re.compile(r"[()]|[^\s()]+")


class RuleTooLarge(ValueError):
    """A rule over one of this module's caps; the message says which, and on which line."""


def _condition_problem(text: str) -> str | None:
    """Why ``text`` is over a cap, or None; linear in its length, stops at the first cap hit."""
    if len(text) > MAX_CONDITION_CHARS:
        return f"condition of {len(text):,} characters (over {MAX_CONDITION_CHARS:,})"
    depth = deepest = terms = 0
    for token in _TOKEN.finditer(text):
        t = token.group()
        if t == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif t == ")":
            depth -= 1
        else:
            terms += 1
    if deepest > MAX_CONDITION_DEPTH:
        return f"condition nested {deepest:,} parentheses deep (over {MAX_CONDITION_DEPTH})"
    if terms > MAX_CONDITION_TERMS:
        return f"condition of {terms:,} terms (over {MAX_CONDITION_TERMS:,})"
    return None


def _values(item: Any, budget: int) -> int:
    """How many leaf values ``item`` holds, counting no further than ``budget`` + 1."""
    count = 0
    stack = [item]
    while stack and count <= budget:
        node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        else:
            count += 1
    return count


def check_rule(doc: Any, lines: Mapping[str, int]) -> None:
    """Refuse a rule document over a cap, before it is handed to pySigma.

    ``lines`` maps ``""`` (the document), ``detection``, ``detection.condition`` … to 1-based
    lines (see :func:`mamori.detect._yaml.load_all_located`). Documents that are not rules
    (no mapping ``detection`` or ``filter``) pass untouched: pySigma judges them.

    Raises:
        RuleTooLarge: with ``line N:`` and the cap exceeded.
    """
    if not isinstance(doc, Mapping):
        return
    for section in ("detection", "filter"):
        detection = doc.get(section)
        if not isinstance(detection, Mapping):
            continue
        line = lines.get(f"{section}.condition", lines.get(section, lines.get("", 0)))
        condition = detection.get("condition")
        conditions = condition if isinstance(condition, list) else [condition]
        if len(conditions) > MAX_CONDITIONS:
            raise RuleTooLarge(f"line {line}: {len(conditions):,} conditions (over {MAX_CONDITIONS})")
        for text in conditions:
            problem = _condition_problem(text) if isinstance(text, str) else None
            if problem:
                raise RuleTooLarge(f"line {line}: {problem}; refused before parsing it")
        items = [v for k, v in detection.items() if k not in ("condition", "rules")]
        line = lines.get(section, lines.get("", 0))
        if len(items) > MAX_DETECTION_ITEMS:
            raise RuleTooLarge(
                f"line {line}: {count(len(items), 'detection item')} (over {MAX_DETECTION_ITEMS:,})"
            )
        values = _values(items, MAX_DETECTION_VALUES)
        if values > MAX_DETECTION_VALUES:
            raise RuleTooLarge(
                f"line {line}: over {MAX_DETECTION_VALUES:,} values in the detection; refused before parsing it"
            )
