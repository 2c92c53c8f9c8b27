"""aiohttp driver of the harness: the ``web.Application`` served on loopback, its router read for routes.

The app (a module's ``app = web.Application()`` or a factory, async or not) runs under an
``AppRunner`` on ``127.0.0.1`` of the sandbox's own network, in an event loop of its own
thread; requests are sent over a real socket (:mod:`pov_http`).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import threading
from typing import Any
from urllib.parse import quote, urlencode

import pov_http
from pov_common import (
    Route,
    call_factory,
    choose_method,
    code_span,
    describe_request,
    pick_route,
    split_inputs,
)

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_VERBS = ("get", "post", "put", "patch", "delete")


def _find_app(job: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Any:
    from aiohttp import web

    errors: list[str] = []
    for spec in job.get("apps") or []:
        try:
            value = getattr(importlib.import_module(spec["module"]), spec["attr"])
            if not isinstance(value, web.Application) and callable(value):
                value = call_factory(value, loop)
            if inspect.isawaitable(value):
                value = loop.run_until_complete(value)
            if isinstance(value, web.Application):
                return value
            errors.append(f"{spec['module']}:{spec['attr']} is not an aiohttp Application")
        except Exception as exc:
            errors.append(f"{spec['module']}:{spec.get('attr')}: {type(exc).__name__}: {exc}")
    raise RuntimeError("; ".join(errors) or "no aiohttp application found (app = web.Application())")


def _spans(handler: Any) -> list[tuple[str, int, int, str]]:
    from aiohttp import web

    if isinstance(handler, type) and issubclass(handler, web.View):
        spans = []
        for verb in _VERBS:
            s = code_span(getattr(handler, verb, None))
            if s:
                spans.append((*s, verb.upper()))
        return spans
    s = code_span(handler)
    return [(*s, "")] if s else []


def _routes(app: Any, prefix: str = "") -> list[Route]:
    out: list[Route] = []
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)
        info = resource.get_info()
        if sub is not None:  # add_subapp("/admin/", sub)
            out += _routes(sub, prefix + str(info.get("prefix", "")).rstrip("/"))
            continue
        path = prefix + str(info.get("path") or info.get("formatter") or resource.canonical)
        for route in resource:
            spans = _spans(route.handler)
            if not spans:
                continue
            method = route.method.upper()
            methods = (
                tuple(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")) if method == "*" else (method,)
            )
            params = {m[1]: "path" for m in _PARAM.finditer(path)}
            out.append(Route(methods, path, spans, route, params))
    return out


class AiohttpApp:
    def __init__(self, job: dict[str, Any], root: str) -> None:
        from aiohttp import web

        self.root = root
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.app = _find_app(job, loop)
        sock = pov_http.listening_socket()
        self.port = sock.getsockname()[1]
        runner = web.AppRunner(self.app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        self.routes = _routes(self.app)

        def start(ready: threading.Event, errors: list[BaseException]) -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        pov_http.serve_in_thread(start)

    def route_for(self, steps: list[list[Any]], method: str | None) -> Route | None:
        return pick_route(self.routes, self.root, steps, method)

    def send(
        self, route: Route, req: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[int, list[tuple[str, str]], bytes]]:
        method = choose_method(route, req)
        parts = split_inputs(req, route.params, method)
        given = dict(parts["path"])
        url = _PARAM.sub(lambda m: quote(given.get(m[1], "1"), safe=""), route.path)
        if parts["query"]:
            url += "?" + urlencode(parts["query"], quote_via=quote)
        sent = describe_request(method, url, parts)
        try:
            return sent, pov_http.send(self.port, method, url, parts)
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise


def load(job: dict[str, Any], root: str) -> AiohttpApp:
    return AiohttpApp(job, root)
