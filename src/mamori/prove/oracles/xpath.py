"""XPath injection (CWE-643): the input's XPath is evaluated, or changes the expression.

For lxml the harness registers an XPath extension function ``mamori_pov``; the payload calls it,
so it runs only if the input was evaluated as XPath (a value kept inside a string literal never
calls it). For elementpath the selected expression is recorded and tokenised: proven when the
payload changes its token structure.
"""

from __future__ import annotations

import re

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at

_TOKENS = re.compile(r"'[^']*'|\"[^\"]*\"|[A-Za-z_][\w.-]*|\d+|//|::|!=|<=|>=|[\[\]()@/=<>|,*+-]")


def payloads(c: Canary) -> list[str]:
    k = c.token
    return [
        f"{k}' or mamori_pov('{k}') or '{k}'='",
        f'{k}" or mamori_pov("{k}") or "{k}"="',
        f"{k}' or '{k}'='{k}",
    ]


def _shape(expr: str) -> list[str]:
    return [
        "S" if t[0] in "'\"" else ("N" if t[0].isalnum() or t[0] == "_" else t) for t in _TOKENS.findall(expr)
    ]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    for e in events(obs, "xpath.evaluated"):
        if c.token in str(e.get("value")):
            return verdict_at(
                e, True, "the input was evaluated as XPath (it called the canary function)", payload
            )
    seen = events(obs, "xpath.select")
    for e in seen:
        q = str(e.get("query", ""))
        if payload in q and _shape(q) != _shape(q.replace(payload, c.token)):
            return verdict_at(
                e, True, f"the input changed the structure of the XPath expression: {q[:200]}", q
            )
    if seen:
        q = str(seen[0].get("query", ""))
        return verdict_at(
            seen[0], False, f"the canary reached the XPath expression as a literal: {q[:200]}", q
        )
    return None


FAMILY = Family("xpath", ("PY-XPATHI",), ("CWE-643",), payloads, judge)
