"""Open redirect (CWE-601): the response sends the browser to a host the canary names."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from mamori.prove.oracles import Canary, Family, Observation, Verdict


def host(c: Canary) -> str:
    return f"{c.token}.invalid"


def payloads(c: Canary) -> list[str]:
    return [f"https://{host(c)}/", f"//{host(c)}/", f"/\\{host(c)}/"]


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    resp = obs.get("response") or {}
    for name, value in resp.get("headers") or []:
        if str(name).lower() != "location":
            continue
        target = urljoin("http://localhost/", str(value).replace("\\", "/"))
        if (urlsplit(target).hostname or "") == host(c):
            return Verdict(
                True,
                f"HTTP {resp.get('status')} redirects to the foreign host in Location: {value}",
                "redirect",
                str(value),
                {},
            )
        if c.token in str(value):
            return Verdict(
                False, f"the canary reached Location but stayed on this host: {value}", "redirect", str(value)
            )
    return None


FAMILY = Family("redirect", ("PY-REDIRECT",), ("CWE-601",), payloads, judge)
