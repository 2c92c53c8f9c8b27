"""Behaviour and exploit checks mamori never sees: run against the project after the fix.

Each check names the function it is about; ``exploit`` checks pass when the hole is closed."""

from __future__ import annotations

from collections.abc import Callable

from app import app

CHECKS: list[tuple[str, str, str, Callable[[], bool]]] = []


def check(kind: str, function: str, name: str) -> Callable[[Callable[[], bool]], Callable[[], bool]]:
    def add(f: Callable[[], bool]) -> Callable[[], bool]:
        CHECKS.append((kind, function, name, f))
        return f

    return add


client = app.test_client()


@check("behaviour", "role", "a user whose name holds & is still found")
def _role_amp() -> bool:
    return client.get("/role", query_string={"name": "a&b"}).get_json() == {"role": "admin"}


@check("exploit", "role", "a quote in the name does not change the query")
def _role_sqli() -> bool:
    return client.get("/role", query_string={"name": "x' OR '1'='1"}).get_json() == {"role": None}


@check("behaviour", "hello", "the greeting still names the visitor")
def _hello() -> bool:
    return b"Hello sato" in client.get("/hello?who=sato").data


@check("exploit", "hello", "markup in the name is not rendered")
def _hello_xss() -> bool:
    return b"<script>" not in client.get("/hello", query_string={"who": "<script>x</script>"}).data


@check("behaviour", "remember", "the cookie's Secure flag follows the app's setting")
def _cookie() -> bool:
    header = client.get("/remember?v=1").headers.get("Set-Cookie", "")
    return "Secure" not in header and "HttpOnly" in header


@check("behaviour", "report", "a report of a plain day still answers")
def _report() -> bool:
    return client.get("/report", query_string={"day": "monday"}).get_json() == {"rows": []}


@check("exploit", "report", "a quote in the day does not change the query")
def _report_sqli() -> bool:
    return client.get("/report", query_string={"day": "zz' OR '1'='1"}).get_json()["rows"] == []
