"""The Sigma rule language: every value modifier, keywords, `1 of`/`all of`, null, numbers.

Each case is a small rule and events that must and must not match it; the rules go through
pySigma and the compiler exactly as loaded rules do, and each event through the engine.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect import load_rules_from_text
from mamori.detect._engine import Engine
from mamori.detect._events import json_event


def _rule(detection: str, logsource: str = "product: test") -> str:
    return f"""
title: t
id: 11111111-1111-4111-8111-111111111111
logsource:
    {logsource}
detection:
{detection}
level: high
"""


def fires(detection: str, event: dict[str, Any]) -> bool:
    rs = load_rules_from_text(_rule(detection))
    assert not rs.unsupported, rs.unsupported
    return bool(Engine(rs.rules).match(json_event(event, "t.json", 1)))


CASES: list[tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]] = [
    (
        "plain equality is case-insensitive",
        "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel",
        [{"Image": "c:\\windows\\CMD.EXE"}],
        [{"Image": "c:\\windows\\cmd.exe2"}, {"Other": "c:\\windows\\cmd.exe"}],
    ),
    (
        "contains / startswith / endswith",
        "    a:\n        F|contains: mid\n    b:\n        G|startswith: pre\n    c:\n        H|endswith: suf\n"
        "    condition: a and b and c",
        [{"F": "xxMIDxx", "G": "prefix", "H": "asuf"}],
        [{"F": "xxMIDxx", "G": "xpre", "H": "asuf"}, {"F": "m-id", "G": "pre", "H": "suf"}],
    ),
    (
        "wildcards inside values",
        "    sel:\n        F: 'a*b?d'\n    condition: sel",
        [{"F": "AxxxBcD"}, {"F": "abxd"}],
        [{"F": "abd"}, {"F": "axbcde"}],
    ),
    (
        "escaped wildcard is literal",
        "    sel:\n        F: 'what\\?'\n    condition: sel",
        [{"F": "what?"}],
        [{"F": "whatX"}],
    ),
    (
        "all modifier links values with AND",
        "    sel:\n        F|contains|all:\n            - one\n            - two\n    condition: sel",
        [{"F": "two and one"}],
        [{"F": "only one"}],
    ),
    (
        "list values are OR-linked",
        "    sel:\n        F:\n            - a\n            - b\n    condition: sel",
        [{"F": "a"}, {"F": "B"}],
        [{"F": "c"}],
    ),
    (
        "regex is case-sensitive, i flag is not",
        "    a:\n        F|re: '^Ab+c$'\n    b:\n        G|re|i: '^ab+c$'\n    condition: a and b",
        [{"F": "Abbc", "G": "ABBC"}],
        [{"F": "abbc", "G": "ABBC"}],
    ),
    (
        "regex m and s flags",
        "    a:\n        F|re|m: '^two$'\n    b:\n        G|re|s: 'x.y'\n    condition: a and b",
        [{"F": "one\ntwo\nthree", "G": "x\ny"}],
        [{"F": "one two", "G": "x\ny"}],
    ),
    (
        "cidr",
        "    sel:\n        ip|cidr: 10.0.0.0/8\n    condition: sel",
        [{"ip": "10.2.3.4"}],
        [{"ip": "11.2.3.4"}, {"ip": "not an ip"}],
    ),
    (
        "cidr ipv6",
        "    sel:\n        ip|cidr: '2001:db8::/32'\n    condition: sel",
        [{"ip": "2001:db8::1"}],
        [{"ip": "2001:db9::1"}],
    ),
    (
        "base64",
        "    sel:\n        F|base64: secret\n    condition: sel",
        [{"F": base64.b64encode(b"secret").decode()}],
        [{"F": "secret"}],
    ),
    (
        "base64offset contains",
        "    sel:\n        F|base64offset|contains: 'http://'\n    condition: sel",
        [{"F": base64.b64encode(p + b"http://x").decode()} for p in (b"", b"a", b"ab")],
        [{"F": base64.b64encode(b"ftp://x").decode()}],
    ),
    (
        "utf16le / wide with base64",
        "    sel:\n        F|wide|base64offset|contains: 'ping'\n    condition: sel",
        [{"F": base64.b64encode("x ping y".encode("utf-16-le")).decode()}],
        [{"F": base64.b64encode(b"x ping y").decode()}],
    ),
    (
        "utf16be and utf16 (BOM)",
        "    a:\n        F|utf16be|base64: ab\n    b:\n        G|utf16|base64: ab\n    condition: a or b",
        [
            {"F": base64.b64encode("ab".encode("utf-16-be")).decode()},
            {"G": base64.b64encode(b"\xff\xfe" + "ab".encode("utf-16-le")).decode()},
        ],
        [{"F": base64.b64encode(b"ab").decode()}],
    ),
    (
        "windash",
        "    sel:\n        CommandLine|windash|contains: ' -exec '\n    condition: sel",
        [{"CommandLine": "x /exec y"}, {"CommandLine": "x -exec y"}, {"CommandLine": "x \u2013exec y"}],
        [{"CommandLine": "x exec y"}],
    ),
    (
        "exists",
        "    a:\n        F|exists: true\n    b:\n        G|exists: false\n    condition: a and b",
        [{"F": ""}, {"F": None}],
        [{"F": "x", "G": "y"}, {"H": 1}],
    ),
    (
        "cased",
        "    sel:\n        F|cased: MiXed\n    condition: sel",
        [{"F": "MiXed"}],
        [{"F": "mixed"}],
    ),
    (
        "numeric comparisons",
        "    a:\n        N|gt: 10\n    b:\n        N|lte: 20\n    condition: a and b",
        [{"N": 11}, {"N": "20"}, {"N": "0x0f"}],
        [{"N": 10}, {"N": 21}, {"N": "many"}],
    ),
    (
        "lt and gte",
        "    a:\n        N|lt: 5\n    b:\n        M|gte: 5\n    condition: a and b",
        [{"N": 4.5, "M": 5}],
        [{"N": 5, "M": 5}],
    ),
    (
        "neq",
        "    sel:\n        N|neq: 3\n    condition: sel",
        [{"N": 4}],
        [{"N": 3}],
    ),
    (
        "fieldref",
        "    sel:\n        A|fieldref: B\n    condition: sel",
        [{"A": "Same", "B": "same"}],
        [{"A": "one", "B": "two"}],
    ),
    (
        "fieldref startswith",
        "    sel:\n        A|fieldref|startswith: B\n    condition: sel",
        [{"A": "prefix-rest", "B": "prefix"}],
        [{"A": "rest-prefix", "B": "prefix"}],
    ),
    (
        "expand with an unknown placeholder acts as a wildcard",
        "    sel:\n        F|expand: '%user%\\Desktop'\n    condition: sel",
        [{"F": "bob\\desktop"}],
        [{"F": "bob\\documents"}],
    ),
    (
        "null",
        "    sel:\n        F: null\n    condition: sel",
        [{"G": 1}, {"F": None}],
        [{"F": "x"}],
    ),
    (
        "keywords: full-text search over every field",
        "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa::*'\n    condition: keywords",
        [{"a": "run Mimikatz now"}, {"b": {"c": "sekurlsa::logonpasswords"}}],
        [{"a": "mimi katz"}],
    ),
    (
        "1 of with wildcard, not",
        "    sel_a:\n        A: 1\n    sel_b:\n        B: 2\n    filter:\n        C: 3\n"
        "    condition: 1 of sel_* and not filter",
        [{"B": 2}, {"A": 1, "C": 4}],
        [{"A": 1, "C": 3}, {"D": 1}],
    ),
    (
        "all of them",
        "    one:\n        A: 1\n    two:\n        B: 2\n    condition: all of them",
        [{"A": 1, "B": 2}],
        [{"A": 1}],
    ),
    (
        "list of maps is OR-linked",
        "    sel:\n        - A: 1\n          B: 2\n        - C: 3\n    condition: sel",
        [{"A": 1, "B": 2}, {"C": 3}],
        [{"A": 1}],
    ),
    (
        "timestamp modifiers",
        "    sel:\n        ts|hour: 3\n    condition: sel",
        [{"ts": "2024-05-01T03:15:00Z"}],
        [{"ts": "2024-05-01T04:15:00Z"}],
    ),
    (
        "nested JSON fields by dotted names, lists match any element",
        "    sel:\n        user.name: root\n        tags: admin\n    condition: sel",
        [{"user": {"name": "root"}, "tags": ["x", "admin"]}],
        [{"user": {"name": "bob"}, "tags": ["admin"]}, {"user": {"name": "root"}, "tags": ["x"]}],
    ),
]


@pytest.mark.parametrize(("name", "detection", "positives", "negatives"), CASES, ids=[c[0] for c in CASES])
def test_modifier(
    name: str, detection: str, positives: list[dict[str, Any]], negatives: list[dict[str, Any]]
) -> None:
    for ev in positives:
        assert fires(detection, ev), f"{name}: should fire on {json.dumps(ev)}"
    for ev in negatives:
        assert not fires(detection, ev), f"{name}: should not fire on {json.dumps(ev)}"


def test_unsupported_rule_is_listed_with_reason() -> None:
    rs = load_rules_from_text(_rule("    sel:\n        F|nosuchmodifier: x\n    condition: sel"))
    assert not rs.rules
    assert len(rs.unsupported) == 1
    assert "nosuchmodifier" in rs.unsupported[0].reason.lower()


def test_condition_errors_are_listed_not_raised() -> None:
    rs = load_rules_from_text(_rule("    sel:\n        F: x\n    condition: sel and missing"))
    assert not rs.rules and rs.unsupported


# ---------------------------------------------------------------- pre-filter soundness (property)

_ALPHA = st.text(alphabet="abcAB\\.-", min_size=0, max_size=6)
_MODS = st.sampled_from(["", "|contains", "|startswith", "|endswith", "|re"])


@st.composite
def _rules_and_event(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    docs = []
    for i in range(draw(st.integers(1, 6))):
        items = []
        for j in range(draw(st.integers(1, 3))):
            field = draw(st.sampled_from(["A", "B", "C"]))
            mod = draw(_MODS)
            value = draw(st.text(alphabet="abcAB.", min_size=1, max_size=4))
            items.append(f"    s{j}:\n        {field}{mod}: '{value}'")
        cond = draw(st.sampled_from(["1 of s*", "all of s*", "not s0", "s0 and not 1 of s*"]))
        docs.append(
            f"title: r{i}\nid: 00000000-0000-4000-8000-{i:012d}\nlogsource:\n    product: test\n"
            f"detection:\n" + "\n".join(items) + f"\n    condition: {cond}\n"
        )
    event = {k: draw(_ALPHA) for k in draw(st.sets(st.sampled_from(["A", "B", "C"])))}
    return "---\n".join(docs), event


@settings(max_examples=60, deadline=None)
@given(_rules_and_event())
def test_prefilter_never_drops_a_match(case: tuple[str, dict[str, Any]]) -> None:
    """The indexed engine fires exactly the rules that brute-force evaluation fires."""
    text, event = case
    rs = load_rules_from_text(text)
    ev = json_event(event, "p.json", 1)
    o = {k.lower(): v for k, v in ev.fields.items()}
    low = {k: v.lower() for k, v in o.items() if isinstance(v, str)}
    brute = {r.id for r in rs.rules if r.detection.fast(o, low)}
    assert {r.id for r in Engine(rs.rules).match(ev)} == brute
