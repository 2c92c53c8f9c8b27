"""XML external entities (CWE-611): the parser reads a file the document's entity names.

The harness creates a file holding a second canary inside its private /tmp; the payload is a
document whose external entity names that file. Proven when the parser opened it (audit hook)
or its content came back in the response.
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, response_text, verdict_at


def entity_file(c: Canary) -> str:
    return f"/tmp/mamori-xxe-{c.token}.txt"


def files(c: Canary) -> dict[str, str]:
    return {entity_file(c): c.second}


def payloads(c: Canary) -> list[str]:
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE {c.token} [<!ENTITY e SYSTEM "file://{entity_file(c)}">]>'
        f"<{c.token}>&e;</{c.token}>"
    )
    return [doc]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    for e in events(obs, "open"):
        if str(e.get("path", "")).endswith(entity_file(c)):
            return verdict_at(
                e, True, f"the XML parser opened the external entity {entity_file(c)}", entity_file(c)
            )
    if c.second in response_text(obs):
        return Verdict(
            True, "the external entity's content came back in the response", "xml parser", c.second
        )
    return None


FAMILY = Family("xxe", ("PY-XXE",), ("CWE-611", "CWE-776"), payloads, judge, files)
