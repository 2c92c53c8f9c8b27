"""Code injection (CWE-94/95): an expression of the input is evaluated, and its effect seen.

The payload is a Python expression that raises a private audit event
(``sys.audit('mamori.proof', canary)``); the harness's audit hook sees it only if the
application evaluated the input as code. Variants break out of a string literal the app may put
around the input. Seeing the text in ``compile`` without the event is reported, not proven.
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at


def payloads(c: Canary) -> list[str]:
    call = f"__import__('sys').audit('mamori.proof','{c.token}')"
    return [call, f"'+str({call})+'", f'"+str({call})+"', f"{call}#"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    for e in events(obs, "evaluated"):
        if c.token in str(e.get("value")):
            return verdict_at(
                e, True, "the input was evaluated as Python code (its audit event fired)", payload
            )
    compiled = events(obs, "compile")
    if compiled:
        src = str(compiled[0].get("source", ""))
        return verdict_at(compiled[0], False, f"the input was compiled but did not run: {src[:200]}", src)
    return None


FAMILY = Family("code", ("PY-CODEI",), ("CWE-94", "CWE-95", "CWE-96"), payloads, judge)
