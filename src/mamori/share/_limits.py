"""What one request may cost the hub: body caps enforced while the body streams in, JSON depth,
page and status sizes, indicator patterns.

:class:`BodyLimit` is ASGI middleware in front of every route (TAXII, REST, dashboard forms): a
``Content-Length`` over the route's cap is answered 413 before a byte of the body is read, and a
body without one (chunked) is counted as it arrives and answered 413 the moment it passes the
cap, so a handler never holds more than the cap in memory, whatever the client sends. The
connection is closed after a 413 (the rest of the body is never read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mamori._safejson import MAX_DEPTH, bracket_depth_of_stripped, without_lone_surrogates

FORM_BODY_BYTES = 1024 * 1024
"""The largest body of a form or REST call (``POST /login``, ``POST /api/grants``, …)."""
TAXII_BODY_BYTES = 10 * 1024 * 1024
"""The largest TAXII envelope (advertised as the API root's ``max_content_length``)."""
MAX_ENVELOPE_OBJECTS = 10_000
"""The most objects one TAXII envelope may carry."""
MAX_PAGE_BYTES = 4 * 1024 * 1024
"""A page of objects stops before its stored bodies pass this size (one object always fits)."""
MAX_FAILURES_LISTED = 100
"""A status resource lists this many failures and counts the rest."""
MAX_JSON_DEPTH = 64
"""The deepest nesting of a stored STIX object (a real one nests a handful of levels)."""
MAX_JSON_VALUES = 600_000
"""The most JSON values (objects, arrays, strings, numbers…) one request body may hold. Parsed,
a value costs up to ~70 bytes (an empty ``{}`` is 3 bytes of JSON and 64 of Python object), so
a 10 MiB body of ``{},{},…`` would grow the server by some 250 MB; counted before parsing, it is a
413. A real envelope of 10,000 objects holds a few hundred thousand."""
MAX_PATTERN_CHARS = 16 * 1024
"""The longest indicator pattern the hub stores and ``share pull`` compiles."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes its cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the body exceeds {cap} bytes")
        self.cap = cap


def body_cap(path: str, method: str) -> int:
    """The cap of a request's body: TAXII envelopes get :data:`TAXII_BODY_BYTES`, all else
    :data:`FORM_BODY_BYTES` (a GET or DELETE has no business sending more)."""
    if method == "POST" and path.startswith("/taxii2/"):
        return TAXII_BODY_BYTES
    return FORM_BODY_BYTES


def _too_large_body(cap: int, taxii: bool) -> tuple[bytes, bytes]:
    body = {
        "title": "Request too large",
        "http_status": "413",
        "description": f"the body exceeds {cap} bytes",
    }
    media = b"application/taxii+json;version=2.1" if taxii else b"application/json"
    return json.dumps(body).encode(), media


class BodyLimit:
    """ASGI middleware: 413 for a body over its cap, with or without ``Content-Length``."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, counting its body's bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = str(scope.get("path", "")), str(scope.get("method", "GET"))
        cap = body_cap(path, method)
        taxii = path.startswith("/taxii2/")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                text = value.decode("latin-1").strip()
                if not text.isdigit() or int(text) > cap:
                    await self._refuse(send, cap, taxii)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, cap, taxii)

    @staticmethod
    async def _refuse(send: Send, cap: int, taxii: bool) -> None:
        body, media = _too_large_body(cap, taxii)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def json_depth_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


class TooManyValues(ValueError):
    """A JSON body with more values than :data:`MAX_JSON_VALUES` (answered 413)."""


async def read_body(request: Any) -> bytearray:
    """A request's body, read once into one buffer (Starlette's ``request.body()`` keeps the
    chunks and their join, and caches the result for the request's life: twice the body, held
    while the handler parses and stores it)."""
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
    return buf


def loads_bounded(raw: bytes | bytearray | str, *, max_values: int = MAX_JSON_VALUES) -> Any:
    """JSON from a request body; ``ValueError`` for anything that is not (deep nesting included:
    the parser's own recursion limit is a 400, never a 500), :class:`TooManyValues` for a body
    of more than ``max_values`` values (refused before a Python object is built)."""
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8: {exc}") from exc
    # the text without its strings, made once (for a body of short strings it is a list of
    # millions of pieces while it is built) and dropped before the decoder runs
    bare = _JSON_STRING.sub('""', text)
    count = sum(bare.count(c) for c in ",:[{") + 1
    if count > max_values:
        raise TooManyValues(f"the body holds about {count:,} JSON values; at most {max_values:,}")
    depth = bracket_depth_of_stripped(bare)  # measured without recursion, before the decoder sees it
    del bare
    if depth > MAX_DEPTH:
        raise ValueError(f"the JSON nests {depth:,} deep; at most {MAX_DEPTH}")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError("the JSON nests too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8: {exc}") from exc
    # a peer's "\\ud800" would be served to every other organisation as text no UTF-8 writer takes
    return without_lone_surrogates(value) if "\\u" in text else value
