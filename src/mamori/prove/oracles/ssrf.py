"""Server-side request forgery (CWE-918): the app resolves or connects to the canary host.

Resolution and connection are refused by the harness after being recorded (and the sandbox has
no network); proven when the host the app tried to reach is the canary's.
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at


def payloads(c: Canary) -> list[str]:
    return [f"http://{c.token}.invalid/", f"{c.token}.invalid"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    for e in events(
        obs,
        "socket.getaddrinfo",
        "socket.connect",
        "socket.gethostbyname",
        "http.client.connect",
        "urllib.Request",
    ):
        target = str(e.get("target", ""))
        if f"{c.token}.invalid" in target:
            return verdict_at(
                e, True, f"the app tried to reach the canary host ({e.get('sink')}: {target[:120]})", target
            )
    return None


FAMILY = Family("ssrf", ("PY-SSRF",), ("CWE-918",), payloads, judge)
