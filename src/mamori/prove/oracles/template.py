"""Server-side template injection (CWE-1336): a template expression of the input is evaluated.

The payload is a multiplication in the syntax of the common engines (Jinja2/Django
``{{ }}``, Mako ``${ }``); proven when the product — a number that is not in the payload —
appears in the response, or the expression's audit event fires.
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, response_text, verdict_at


def _factors(c: Canary) -> tuple[int, int]:
    n = int(c.token[2:8], 16)
    return 7919 + n % 1000, 104729 + n % 997


def payloads(c: Canary) -> list[str]:
    a, b = _factors(c)
    return [f"{c.token}{{{{{a}*{b}}}}}", f"{c.token}${{{a}*{b}}}"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    a, b = _factors(c)
    text = response_text(obs)
    if f"{c.token}{a * b}" in text:
        resp = obs.get("response") or {}
        return Verdict(
            True,
            f"the template expression {a}*{b} was evaluated: {a * b} is in the response",
            "template rendering",
            f"{c.token}{a * b}",
            {},
        )
        del resp
    for e in events(obs, "evaluated"):
        return verdict_at(e, True, "the input was evaluated as template code", payload)
    return None


FAMILY = Family("template", ("PY-SSTI",), ("CWE-1336", "CWE-917"), payloads, judge)
