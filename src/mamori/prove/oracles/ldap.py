"""LDAP injection (CWE-90): the canary changes the structure of the search filter.

An LDAP filter's structure is its parentheses and operators (RFC 4515: ``( ) & | ! = ~= >= <=``
and ``*``); proven when the filter with the payload differs in that structure from the same
filter with the payload replaced by a plain word. An escaped value (``\\28``) is not verbatim.
"""

from __future__ import annotations

import re

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at

_STRUCTURE = re.compile(r"[()&|!*]|[~<>]?=")


def payloads(c: Canary) -> list[str]:
    return [f"*)(uid={c.token}", f"{c.token})(|(uid=*", f"{c.token}*"]


def changes_filter(query: str, payload: str, plain: str) -> bool:
    if payload not in query:
        return False
    return _STRUCTURE.findall(query) != _STRUCTURE.findall(query.replace(payload, plain))


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    seen = events(obs, "ldap.search")
    for e in seen:
        q = str(e.get("query", ""))
        if changes_filter(q, payload, c.token):
            return verdict_at(e, True, f"the input changed the structure of the LDAP filter: {q[:200]}", q)
    if seen:
        q = str(seen[0].get("query", ""))
        return verdict_at(seen[0], False, f"the canary reached the LDAP filter as a value only: {q[:200]}", q)
    return None


FAMILY = Family("ldap", ("PY-LDAPI",), ("CWE-90",), payloads, judge)
