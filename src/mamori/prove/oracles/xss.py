"""Cross-site scripting (CWE-79): the canary element appears unescaped in an HTML response.

Payloads are an element named by the canary (with an attribute, after a quote break, and bare
for code that splits the input on spaces); proven when one comes back verbatim — escaped
(``&lt;``) it is not — in a response whose type is HTML (or not given).
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, response_text


def tag(c: Canary) -> str:
    return f"<{c.token} id={c.token}>"


def bare(c: Canary) -> str:
    return f"<{c.token}>"


def payloads(c: Canary) -> list[str]:
    return [tag(c), f"'\">{tag(c)}", bare(c)]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    resp = obs.get("response") or {}
    ctype = str(resp.get("content_type") or "").lower()
    text = response_text(obs)
    for element in (tag(c), bare(c)):
        if element not in text:
            continue
        if ctype and "html" not in ctype:
            return Verdict(
                False, f"the canary came back unescaped, but as {ctype}, not HTML", "response", element
            )
        return Verdict(
            True,
            f"the canary element {element} came back unescaped in an HTML response (HTTP {resp.get('status')})",
            "response",
            element,
        )
    if c.token in text:
        return Verdict(False, "the canary came back in the response, escaped", "response", c.token)
    return None


FAMILY = Family("xss", ("PY-XSS",), ("CWE-79", "CWE-80"), payloads, judge)
