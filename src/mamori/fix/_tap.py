"""Per-test outcomes of a JavaScript test run, from its TAP output (Test Anything Protocol).

node's own runner (``node --test``: TAP is asked for with ``--test-reporter=tap``), tape and
node-tap print TAP on standard output: ``ok 1 - name`` / ``not ok 2 - name``, subtests indented
under a ``# Subtest: name`` line, ``# SKIP`` / ``# TODO`` directives. A test's name is its path
of subtest names (``suite/case``); a name met twice gets ``#2``, ``#3``. Only leaf tests count:
a parent's line repeats its subtests' verdict. tape's flat assertions are grouped under the
``# name`` comment before them.

The output is the project's (untrusted) text: lines are matched by bounded patterns, names are
cut to 200 characters (a path to 300) and at most :data:`MAX_TESTS` tests are kept; no TAP at all gives ``None``
(the run is then judged by its exit status alone).
"""

from __future__ import annotations

import re
from collections import Counter

MAX_TESTS = 100_000
_RESULT = re.compile(
    r"^(?P<indent>[ \t]*)(?P<not>not )?ok(?=[ \t]|$)(?:[ \t]+\d+)?(?:[ \t]*-)?[ \t]*(?P<rest>.{0,2000})$"
)
_SUBTEST = re.compile(r"^(?P<indent>[ \t]*)# Subtest: (?P<name>.{0,2000})$")
_DIRECTIVE = re.compile(r"[ \t]#[ \t]*(SKIP|TODO)\b", re.IGNORECASE)
_TAPE_SUMMARY = re.compile(
    r"^#\s*(?:tests|suites|pass|fail|ok|skip|skipped|todo|cancelled|duration_ms)\b(?:\s+[\d.]+)?\s*$",
    re.IGNORECASE,
)


def tap_outcomes(output: str) -> tuple[frozenset[str], int] | None:
    """(the tests that passed, how many failed) of a TAP stream, or None when it holds none."""
    passed: set[str] = set()
    failed = 0
    seen: Counter[str] = Counter()
    stack: list[tuple[int, str]] = []  # (indent, name) of the open ``# Subtest:`` lines
    group = ""  # tape: the ``# name`` comment before flat assertions
    deeper_since: dict[int, bool] = {}  # indent -> a result line deeper than it came after its last
    found = False
    for line in output.splitlines():
        sub = _SUBTEST.match(line)
        if sub:
            indent = len(sub.group("indent").expandtabs(4))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, sub.group("name").strip()[:200]))
            continue
        m = _RESULT.match(line)
        if m is None:
            if line.startswith("# ") and not _TAPE_SUMMARY.match(line):
                group = line[2:].strip()[:200]
            continue
        found = True
        indent = len(m.group("indent").expandtabs(4))
        parent = deeper_since.pop(indent, False)
        for level in list(deeper_since):
            if level > indent:
                del deeper_since[level]
        for level in range(indent):
            deeper_since[level] = True
        rest = m.group("rest")
        directive = _DIRECTIVE.search(rest)
        name = (rest[: directive.start()] if directive else rest).strip()[:200]
        while stack and stack[-1][0] > indent:
            stack.pop()
        if stack and stack[-1][0] == indent and stack[-1][1] == name:
            stack.pop()  # node: the subtest's own result line closes its ``# Subtest:``
        if parent:
            continue  # its subtests were counted
        if directive and directive.group(1).upper() == "SKIP":
            continue
        path = "/".join([*(n for _, n in stack), name]) or "(unnamed)"
        if not stack and group and indent == 0:
            path = f"{group}/{path}"
        path = path[:300]
        seen[path] += 1
        if seen[path] > 1:
            path = f"{path}#{seen[path]}"
        if m.group("not"):
            if not (directive and directive.group(1).upper() == "TODO"):
                failed += 1
        elif len(passed) < MAX_TESTS:
            passed.add(path)
    return (frozenset(passed), failed) if found else None
