"""Tornado driver of the harness: the ``Application`` served on loopback, its rules read for routes.

The app (``app = Application([...])``, a factory, or a subclass of ``Application``) is served
by ``tornado.httpserver.HTTPServer`` on ``127.0.0.1`` of the sandbox's own network, in an
event loop of its own thread. Path groups of a rule are the handler method's positional
parameters (``def get(self, name)``). Applications with ``xsrf_cookies`` get the double-submit
token every client can obtain (the ``_xsrf`` cookie and the ``X-XSRFToken`` header).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import secrets
import threading
from typing import Any
from urllib.parse import quote, urlencode

import pov_http
from pov_common import Route, choose_method, code_span, describe_request, pick_route, split_inputs

_VERBS = ("get", "post", "put", "patch", "delete")
_GROUP = re.compile(r"\((?:\?P<(?P<name>\w+)>)?(?:[^()\\]|\\.)*\)")


def _find_app(job: dict[str, Any]) -> Any:
    import tornado.web

    errors: list[str] = []
    for spec in job.get("apps") or []:
        try:
            value = getattr(importlib.import_module(spec["module"]), spec["attr"])
            if not isinstance(value, tornado.web.Application) and callable(value):
                value = value()
            if inspect.isawaitable(value):
                value = asyncio.get_event_loop().run_until_complete(value)
            if isinstance(value, tornado.web.Application):
                return value
            errors.append(f"{spec['module']}:{spec['attr']} is not a Tornado Application")
        except Exception as exc:
            errors.append(f"{spec['module']}:{spec.get('attr')}: {type(exc).__name__}: {exc}")
    raise RuntimeError("; ".join(errors) or "no Tornado application found (Application([...]))")


def _rules(router: Any) -> list[Any]:
    out: list[Any] = []
    for rule in getattr(router, "rules", []) or []:
        if hasattr(rule.target, "rules"):
            out += _rules(rule.target)
        else:
            out.append(rule)
    return out


def _url(regex: str, values: list[str]) -> str:
    """A path matching a rule's regex, its groups filled in order."""
    text = regex.rstrip("$").lstrip("^")
    it = iter(values)
    text = _GROUP.sub(lambda _m: quote(next(it, "mamori"), safe=""), text)
    return "/" + text.replace("\\", "").replace("?", "").lstrip("/")


class TornadoApp:
    def __init__(self, job: dict[str, Any], root: str) -> None:
        import tornado.httpserver
        import tornado.web

        self.root = root
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.app = _find_app(job)
        self.xsrf = bool(self.app.settings.get("xsrf_cookies"))
        self.routes: list[Route] = []
        for rule in _rules(self.app.default_router):
            handler = rule.target
            if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
                continue
            spans: list[tuple[str, int, int, str]] = []
            methods: list[str] = []
            params: dict[str, str] = {}
            for verb in _VERBS:
                fn = getattr(handler, verb, None)
                if fn is None or fn is getattr(tornado.web.RequestHandler, verb, None):
                    continue  # the base class answers 405
                s = code_span(fn)
                if s:
                    spans.append((*s, verb.upper()))
                    methods.append(verb.upper())
                    params.update({n: "path" for n in list(inspect.signature(fn).parameters)[1:]})
            regex = getattr(getattr(rule.matcher, "regex", None), "pattern", None)
            if not spans or regex is None:
                continue
            route = Route(tuple(methods), _url(regex, []), spans, (regex, handler), params)
            self.routes.append(route)
        sock = pov_http.listening_socket()
        sock.setblocking(False)  # Tornado accepts until the socket would block
        self.port = sock.getsockname()[1]

        async def serve() -> None:
            server = tornado.httpserver.HTTPServer(self.app)
            server.add_sockets([sock])

        def start(ready: threading.Event, errors: list[BaseException]) -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
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
        regex, handler = route.handle
        fn = getattr(handler, method.lower(), None)
        names = list(inspect.signature(fn).parameters)[1:] if fn else []
        given = dict(parts["path"])
        url = _url(regex, [given.get(n, "mamori") for n in names])
        if parts["query"]:
            url += "?" + urlencode(parts["query"], quote_via=quote)
        if self.xsrf and method not in ("GET", "HEAD", "OPTIONS"):
            token = secrets.token_hex(16)
            parts["cookie"].append(("_xsrf", token))
            parts["header"].append(("X-XSRFToken", token))
        sent = describe_request(method, url, parts)
        try:
            return sent, pov_http.send(self.port, method, url, parts)
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise


def load(job: dict[str, Any], root: str) -> TornadoApp:
    return TornadoApp(job, root)
