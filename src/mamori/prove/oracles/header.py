"""HTTP header injection (CWE-113): CR/LF of the input splits a response header."""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict


def payloads(c: Canary) -> list[str]:
    return [f"{c.token}\r\nX-{c.token}: 1"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    resp = obs.get("response") or {}
    for name, value in resp.get("headers") or []:
        if str(name).lower() == f"x-{c.token}":
            return Verdict(
                True,
                f"the input added its own response header X-{c.token}",
                "response header",
                f"{name}: {value}",
            )
        if c.token in str(value) and ("\r" in str(value) or "\n" in str(value)):
            return Verdict(
                True, f"a response header carries CR/LF from the input: {name}", "response header", str(value)
            )
    return None


FAMILY = Family("header", ("PY-HEADER",), ("CWE-113", "CWE-93"), payloads, judge)
