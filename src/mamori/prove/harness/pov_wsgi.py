"""Plain WSGI and ``http.server`` driver of the harness: the app's callable or handler on loopback.

A WSGI callable (``def application(environ, start_response)``, or an object with such a
``__call__``) is served by ``wsgiref`` (threaded); a ``BaseHTTPRequestHandler`` subclass by
``http.server.ThreadingHTTPServer`` — both on ``127.0.0.1`` of the sandbox's own network.
Neither has a route table: every request reaches the one callable, and the URL path is read
from the code — the ``if path == "/user":`` branch that holds the finding's lines.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any
from urllib.parse import quote, urlencode

import pov_http
from pov_common import Route, choose_method, code_span, describe_request, split_inputs

_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _is_handler(value: Any) -> bool:
    import http.server

    return isinstance(value, type) and issubclass(value, http.server.BaseHTTPRequestHandler)


def _find(job: dict[str, Any]) -> Any:
    errors: list[str] = []
    for spec in job.get("apps") or []:
        try:
            value = getattr(importlib.import_module(spec["module"]), spec["attr"])
        except Exception as exc:
            errors.append(f"{spec['module']}:{spec.get('attr')}: {type(exc).__name__}: {exc}")
            continue
        if _is_handler(value) or callable(value):
            return value
        errors.append(f"{spec['module']}:{spec['attr']} is not callable")
    raise RuntimeError("; ".join(errors) or "no WSGI callable or http.server handler found")


def _quiet_wsgi_handler() -> Any:
    from wsgiref.simple_server import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:  # the app's access log is noise here
            pass

    return Handler


class LoopbackApp:
    """The app's server running in a thread of the harness; requests over a real socket."""

    def __init__(self, target: Any, root: str) -> None:
        self.root = root
        self.target = target
        sock = pov_http.listening_socket()
        self.port = sock.getsockname()[1]
        if _is_handler(target):
            self.functions = {
                verb: getattr(target, f"do_{verb}") for verb in _VERBS if hasattr(target, f"do_{verb}")
            }
            self.server = self._http_server(target, sock)
        else:
            call = target if hasattr(target, "__code__") else getattr(target, "__call__", target)  # noqa: B004
            self.functions = {"": call}
            self.server = self._wsgi_server(target, sock)

        def start(ready: threading.Event, errors: list[BaseException]) -> None:
            ready.set()
            self.server.serve_forever(poll_interval=0.2)

        pov_http.serve_in_thread(start)

    @staticmethod
    def _http_server(handler: Any, sock: Any) -> Any:
        import http.server

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        server = Server(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.socket.close()
        server.socket = sock
        server.server_address = sock.getsockname()
        return server

    @staticmethod
    def _wsgi_server(app: Any, sock: Any) -> Any:
        import socketserver
        from wsgiref.simple_server import WSGIServer

        class Server(socketserver.ThreadingMixIn, WSGIServer):
            daemon_threads = True

        server = Server(("127.0.0.1", 0), _quiet_wsgi_handler(), bind_and_activate=False)
        server.socket.close()
        server.socket = sock
        server.server_address = sock.getsockname()
        server.server_name, server.server_port = "localhost", sock.getsockname()[1]
        server.setup_environ()
        server.set_app(app)
        return server

    def route_for(self, steps: list[list[Any]], method: str | None) -> Route | None:
        spans = []
        for verb, fn in self.functions.items():
            span = code_span(fn)
            if span is not None:
                spans.append((*span, verb))
        targets = {(os.path.abspath(os.path.join(self.root, str(p))), int(line)) for p, line in steps}
        holding = [s for s in spans if any(p == s[0] and s[1] <= line <= s[2] for p, line in targets)]
        verbs = tuple(s[3] for s in holding if s[3]) or tuple(v for v in self.functions if v) or _VERBS
        if method and method in verbs:
            verbs = (method,)
        fn = self.functions.get(verbs[0]) or next(iter(self.functions.values()))
        return Route(verbs, pov_http.path_for(fn, self.root, steps), spans or [], fn, {})

    def send(
        self, route: Route, req: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[int, list[tuple[str, str]], bytes]]:
        method = choose_method(route, req)
        parts = split_inputs(req, route.params, method)
        url = route.path
        if parts["path"]:  # no route table: a path input is the path's last segment
            url = url.rstrip("/") + "/" + quote(parts["path"][0][1], safe="")
        if parts["query"]:
            url += "?" + urlencode(parts["query"], quote_via=quote)
        sent = describe_request(method, url, parts)
        try:
            return sent, pov_http.send(self.port, method, url, parts)
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise


def load(job: dict[str, Any], root: str) -> LoopbackApp:
    return LoopbackApp(_find(job), root)
