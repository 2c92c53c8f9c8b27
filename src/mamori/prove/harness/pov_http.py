"""Real HTTP on the sandbox's own loopback: the app's server in a thread, requests by http.client.

The drivers for servers that have no in-process test client mamori can rely on (aiohttp,
Tornado, plain WSGI callables, ``http.server`` handlers) start the app's own server on
``127.0.0.1`` inside the sandbox's network namespace (nothing outside can reach it, it can
reach nothing outside) and send each proof request over a real socket. Standard library only.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from pov_common import cookie_header


def listening_socket() -> socket.socket:
    """A TCP socket listening on an unused loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def serve_in_thread(
    start: Callable[[threading.Event, list[BaseException]], None], wait: float = 60.0
) -> None:
    """Run ``start(ready, errors)`` in a daemon thread; return once it set ``ready`` (or raise its error)."""
    ready = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start(ready, errors)
        except BaseException as exc:
            errors.append(exc)
            ready.set()

    threading.Thread(target=run, name="mamori-app-server", daemon=True).start()
    if not ready.wait(wait):
        raise RuntimeError(f"the app's server did not start within {wait:g} s")
    if errors:
        raise errors[0]


def _multipart(form: list[tuple[str, str]], files: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = "mamori" + secrets.token_hex(8)
    out: list[bytes] = []
    for name, value in form:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, value in files:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{value}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n{value}\r\n".encode()
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def encode_body(parts: dict[str, Any]) -> tuple[bytes | None, str]:
    """The request body and its content type for a request's parts (form, files, JSON, raw)."""
    if parts["json"]:
        return json.dumps(dict(parts["json"])).encode(), "application/json"
    if parts["file"]:
        return _multipart(list(parts["form"]), list(parts["file"]))
    if parts["form"]:
        return urlencode(list(parts["form"]), quote_via=quote).encode(), "application/x-www-form-urlencoded"
    if parts["body"]:
        return "".join(v for _, v in parts["body"]).encode("utf-8"), "text/plain"
    return None, ""


def send(
    port: int, method: str, url: str, parts: dict[str, Any], extra: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request to ``127.0.0.1:port`` (redirects are not followed) and read the answer."""
    body, ctype = encode_body(parts)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest(method, url, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "localhost")
        headers = list(parts["header"]) + list(extra or [])
        if parts["cookie"]:
            headers.append(("Cookie", cookie_header(list(parts["cookie"]))))
        if body is not None and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", ctype))
        for name, value in headers:
            conn.putheader(name, value.encode("latin-1", "replace"))
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, list(resp.getheaders()), data
    finally:
        conn.close()


def path_literals(fn: Any) -> list[tuple[int, int, str]]:
    """(first line, last line, path) of the branches of ``fn``'s source that test a URL path literal.

    ``if path == "/user":`` and ``elif url.path.startswith("/api/"):`` give the lines of their
    bodies; a path literal elsewhere (a routing dict) gives its own line.
    """
    import inspect

    try:
        fn = inspect.unwrap(fn)
        code = fn.__code__
        with open(code.co_filename, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (AttributeError, OSError, SyntaxError, ValueError, TypeError):
        return []
    first = code.co_firstlineno
    out: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.If) or node.lineno < first:
            continue
        for sub in ast.walk(node.test):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.startswith("/"):
                end = max((getattr(s, "end_lineno", s.lineno) or s.lineno) for s in node.body)
                out.append((node.body[0].lineno, end, sub.value))
                break
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("/")
            and " " not in node.value
            and getattr(node, "lineno", 0) >= first
        ):
            out.append((node.lineno, node.lineno, node.value))
    return out


def path_for(fn: Any, root: str, steps: list[list[Any]]) -> str:
    """The URL path that leads ``fn`` (a WSGI callable, a handler's method) to the trace's lines."""
    branches = path_literals(fn)
    try:
        filename = os.path.abspath(fn.__code__.co_filename)
    except AttributeError:
        return "/"
    lines = [int(line) for p, line in steps if os.path.abspath(os.path.join(root, str(p))) == filename]
    if not lines or not branches:
        return "/"
    # the tightest branch holding a step (the sink's first), else the nearest literal above it
    for line in reversed(lines):
        holding = [b for b in branches if b[0] <= line <= b[1] and b[0] != b[1]]
        if holding:
            best = min(holding, key=lambda b: b[1] - b[0])
            return _concrete(best[2])
    for line in reversed(lines):
        above = [b for b in branches if b[0] <= line]
        if above:
            return _concrete(max(above, key=lambda b: b[0])[2])
    return "/"


def _concrete(path: str) -> str:
    """A literal path as a request path (a prefix tested with startswith is used as it is)."""
    return path if path.startswith("/") else "/" + path
