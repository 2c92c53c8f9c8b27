"""Deserialisation of untrusted data (CWE-502): the input makes the loader look up a class.

Payloads name a module only the canary can name: a protocol-0 pickle (plain ASCII; also base64
encoded), a YAML ``!!python/name`` tag and a jsonpickle object. Proven when the harness sees
``pickle.find_class`` or an import of the canary module (both refused after recording).
"""

from __future__ import annotations

import base64

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at


def payloads(c: Canary) -> list[str]:
    pickle = f"c{c.token}\nx\n."
    return [
        pickle,
        base64.b64encode(pickle.encode()).decode(),
        base64.urlsafe_b64encode(pickle.encode()).decode(),
        # a trailing pad survives code that cuts the input's last character (base64 ignores it)
        base64.urlsafe_b64encode(pickle.encode()).decode() + "=",
        f"!!python/name:{c.token}.x",
        f'{{"py/object": "{c.token}.x"}}',
    ]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    for e in events(obs, "pickle.find_class"):
        if c.token in str(e.get("module")) or c.token in str(e.get("name")):
            return verdict_at(
                e,
                True,
                f"the deserialiser looked up the class {e.get('module')}.{e.get('name')}",
                str(e.get("module")),
            )
    for e in events(obs, "import"):
        if c.token in str(e.get("module")):
            return verdict_at(
                e,
                True,
                f"the deserialiser imported the module {e.get('module')} the input named",
                str(e.get("module")),
            )
    return None


FAMILY = Family("deserialisation", ("PY-DESER",), ("CWE-502",), payloads, judge)
