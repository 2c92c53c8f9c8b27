"""Cross-site scripting (CWE-79): the canary element appears unescaped in an HTML response."""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, response_text


def tag(c: Canary) -> str:
    return f"<{c.token} id={c.token}>"


def payloads(c: Canary) -> list[str]:
    return [tag(c), f"'\">{tag(c)}"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    resp = obs.get("response") or {}
    ctype = str(resp.get("content_type") or "").lower()
    text = response_text(obs)
    if tag(c) in text:
        if ctype and "html" not in ctype:
            return Verdict(
                False, f"the canary came back unescaped, but as {ctype}, not HTML", "response", tag(c)
            )
        return Verdict(
            True,
            f"the canary element {tag(c)} came back unescaped in an HTML response "
            f"(HTTP {resp.get('status')})",
            "response",
            tag(c),
        )
    if c.token in text:
        return Verdict(False, "the canary came back in the response, escaped", "response", c.token)
    return None


FAMILY = Family("xss", ("PY-XSS",), ("CWE-79", "CWE-80"), payloads, judge)
