"""What every framework driver of the harness shares: routes located by code, request parts.

Standard library only (runs under the application's interpreter).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any

PLACES = ("query", "form", "json", "header", "cookie", "path", "file", "body", "param", "values")
BODY_PLACES = {"form", "json", "file", "body"}


def code_span(fn: Any) -> tuple[str, int, int] | None:
    """(file, first line, last line) of a function's code, unwrapping decorators."""
    with contextlib.suppress(ValueError):
        fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__func__", None), "__code__", None)
    if code is None:
        return None
    lines = [line for _, _, line in code.co_lines() if line is not None]
    last = max(lines, default=code.co_firstlineno)
    return os.path.abspath(code.co_filename), code.co_firstlineno, last


_ARGV_NAMES = {"argv", "args", "arguments", "cli_args", "argv_"}


def call_factory(fn: Any, loop: Any = None) -> Any:
    """Call an app factory the way its entry script would: no arguments, else each required
    parameter given what such a script passes (``argv``: ``[]``, ``loop``: the loop, else None)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn()
    args: list[Any] = []
    for p in sig.parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            continue
        args.append([] if p.name in _ARGV_NAMES else (loop if p.name == "loop" else None))
    return fn(*args)


@dataclass
class Route:
    """One route of the app: how to reach it and which code it runs."""

    methods: tuple[str, ...]
    path: str
    spans: list[tuple[str, int, int, str]] = field(default_factory=list)
    """(file, first, last, http method or '') of the code it runs."""
    handle: Any = None
    params: dict[str, str] = field(default_factory=dict)
    """Parameter name -> place, where the framework declares it (FastAPI, path converters)."""

    def describe(self) -> dict[str, Any]:
        return {"path": self.path, "methods": list(self.methods)}


def pick_route(routes: list[Route], root: str, steps: list[list[Any]], method: str | None) -> Route | None:
    """The route whose code holds the most (then the latest) trace steps, the tightest first."""
    targets = [(os.path.abspath(os.path.join(root, str(p))), int(line)) for p, line in steps]
    best: tuple[tuple[int, int, int], Route] | None = None
    for route in routes:
        for path, first, last, verb in route.spans:
            inside = [i for i, (p, line) in enumerate(targets) if p == path and first <= line <= last]
            if not inside:
                continue
            key = (-len(inside), -max(inside), last - first)
            if method and method not in route.methods and not verb:
                key = (key[0] + 1000, key[1], key[2])
            candidate = _narrow(route, verb) if verb else route
            if best is None or key < best[0]:
                best = (key, candidate)
    return best[1] if best else None


def _narrow(route: Route, verb: str) -> Route:
    return Route((verb,), route.path, route.spans, route.handle, route.params)


def choose_method(route: Route, req: dict[str, Any]) -> str:
    """The HTTP method to use: the one the request asks for, POST for a body, else GET."""
    methods = [m for m in route.methods if m not in ("HEAD", "OPTIONS")] or ["GET"]
    wanted = req.get("method")
    if wanted in methods:
        return str(wanted)
    needs_body = any(i["place"] in BODY_PLACES for i in req.get("inputs", []))
    for m in ("POST", "PUT", "PATCH") if needs_body else ("GET", "POST"):
        if m in methods:
            return m
    return methods[0]


def split_inputs(req: dict[str, Any], params: dict[str, str], method: str = "GET") -> dict[str, Any]:
    """Group a request's inputs by place (``param`` resolved through the route's declaration).

    ``values`` (Flask's ``request.values``, Tornado's ``get_argument``: the query string or the
    form body) goes in the form body of a request that has one, else in the query string.
    """
    parts: dict[str, Any] = {p: [] for p in PLACES if p != "values"}
    for item in req.get("inputs", []):
        place = item["place"]
        if place == "param":
            place = params.get(item["name"], "query")
        if place == "values":
            place = "form" if method in ("POST", "PUT", "PATCH") else "query"
        parts.setdefault(place, []).append((item["name"], item["value"]))
    return parts


_COOKIE_OCTETS = re.compile(r"^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$")


def cookie_value(value: str) -> str:
    """A cookie value as sent: raw when RFC 6265 allows it, else a quoted string with escapes."""
    if _COOKIE_OCTETS.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cookie_header(pairs: list[tuple[str, str]]) -> str:
    """A Cookie header for ``pairs`` (names as given, values through :func:`cookie_value`)."""
    return "; ".join(f"{k}={cookie_value(v)}" for k, v in pairs)


def curl(method: str, url: str, parts: dict[str, Any]) -> str:
    """The request as one ``curl`` command line (host ``localhost``)."""
    import shlex

    argv = ["curl", "-X", method, "http://localhost" + url]
    for name, value in parts["header"]:
        argv += ["-H", f"{name}: {value}"]
    if parts["cookie"]:
        argv += ["-H", "Cookie: " + cookie_header(parts["cookie"])]
    for name, value in parts["form"]:
        argv += ["--data-urlencode", f"{name}={value}"]
    if parts["json"]:
        import json

        argv += ["-H", "Content-Type: application/json", "--data", json.dumps(dict(parts["json"]))]
    for name, value in parts["file"]:
        argv += ["-F", f"{name}=@-;filename={value}"]
    for _name, value in parts["body"]:
        argv += ["--data-binary", value]
    return shlex.join(argv)


def describe_request(method: str, url: str, parts: dict[str, Any]) -> dict[str, Any]:
    """The request as data (what the proof reports and the pytest test replays)."""
    out: dict[str, Any] = {"method": method, "url": url}
    for place in ("query", "form", "json", "header", "cookie", "file", "body"):
        if parts[place]:
            out[place] = [[k, v] for k, v in parts[place]]
    out["curl"] = curl(method, url, parts)
    return out
