"""Django driver of the harness: settings from manage.py, the URLconf, requests through Client.

The database the settings name is created in the scratch copy (``migrate`` for SQLite; an
unreachable server fails fast and is reported).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote, urlencode

from pov_common import Route, choose_method, code_span, describe_request, pick_route, split_inputs

_CONV = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)|\([^)]*\)")


def _spans(callback: Any) -> list[tuple[str, int, int, str]]:
    view_class = (
        getattr(callback, "view_class", None) or getattr(getattr(callback, "cls", None), "__mro__", [None])[0]
    )
    spans: list[tuple[str, int, int, str]] = []
    if view_class is not None:
        for verb in (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "list",
            "create",
            "retrieve",
            "update",
            "destroy",
        ):
            s = code_span(getattr(view_class, verb, None))
            if s:
                http = {
                    "list": "GET",
                    "retrieve": "GET",
                    "create": "POST",
                    "update": "PUT",
                    "destroy": "DELETE",
                }.get(verb, verb.upper())
                spans.append((*s, http))
    s = code_span(callback)
    if s:
        spans.append((*s, ""))
    return spans


def _pattern_text(pattern: Any) -> tuple[str, bool]:
    text = str(pattern)
    is_regex = type(pattern).__name__ == "RegexPattern"
    return text, is_regex


def _walk(patterns: list[Any], prefix: list[tuple[str, bool]]) -> list[tuple[list[tuple[str, bool]], Any]]:
    out: list[tuple[list[tuple[str, bool]], Any]] = []
    for p in patterns:
        here = [*prefix, _pattern_text(p.pattern)]
        if hasattr(p, "url_patterns"):
            try:
                out += _walk(list(p.url_patterns), here)
            except Exception:
                continue
        else:
            out.append((here, p.callback))
    return out


def _build(parts: list[tuple[str, bool]], given: dict[str, str]) -> str:
    url = ""
    for text, is_regex in parts:
        if is_regex:
            text = text.lstrip("^").rstrip("$").replace("\\Z", "")
            text = _GROUP.sub(lambda m: quote(given.get(m["name"] or "", "1"), safe=""), text)
            text = text.replace("\\", "").replace("?", "")
        else:
            text = _CONV.sub(
                lambda m: quote(
                    given.get(m["name"], "1" if m["conv"] in ("int", None) else "mamori"), safe=""
                ),
                text,
            )
        url += text
    return "/" + url.lstrip("/")


def _watch_queries() -> None:
    """Record SQL text carrying the canary at every Django connection (before parameters)."""
    import pov_hooks
    from django.db import connections

    def wrapper(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        text = str(sql)
        if any(m in text for m in pov_hooks._marks()):
            pov_hooks.record("dbapi.execute", sql=text, parameters=repr(params)[:500])
        return execute(sql, params, many, context)

    for alias in connections:
        connections[alias].execute_wrappers.append(wrapper)


class DjangoApp:
    def __init__(self, root: str) -> None:
        import django
        from django.conf import settings

        django.setup()
        settings.ALLOWED_HOSTS = ["*"]
        try:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0, run_syncdb=True)
        except Exception as exc:
            import sys

            print(f"mamori harness: migrate failed: {exc}", file=sys.stderr)
        _watch_queries()
        from django.test import Client
        from django.urls import get_resolver

        self.root = root
        self.client = Client(raise_request_exception=False)
        self.routes: list[Route] = []
        for parts, callback in _walk(list(get_resolver().url_patterns), []):
            spans = _spans(callback)
            if not spans:
                continue
            names = {m["name"]: "path" for text, _ in parts for m in _CONV.finditer(text)}
            names.update({m["name"]: "path" for text, _ in parts for m in _GROUP.finditer(text) if m["name"]})
            route = Route(("GET", "POST", "PUT", "PATCH", "DELETE"), "", spans, parts, names)
            route.path = _build(parts, {})
            self.routes.append(route)

    def route_for(self, steps: list[list[Any]], method: str | None) -> Route | None:
        return pick_route(self.routes, self.root, steps, method)

    def send(
        self, route: Route, req: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[int, list[tuple[str, str]], bytes]]:
        method = choose_method(route, req)
        parts = split_inputs(req, route.params, method)
        url = _build(route.handle, dict(parts["path"]))
        if parts["query"]:
            url += "?" + urlencode(parts["query"], quote_via=quote)
        headers = {k: v for k, v in parts["header"]}
        self.client.cookies.clear()
        for k, v in parts["cookie"]:
            self.client.cookies[k] = v
        kwargs: dict[str, Any] = {"headers": headers}
        if parts["json"]:
            import json

            kwargs.update(data=json.dumps(dict(parts["json"])), content_type="application/json")
        elif parts["form"] or parts["file"]:
            data: dict[str, Any] = {}
            for k, v in parts["form"]:
                data.setdefault(k, []).append(v)
            if parts["file"]:
                from django.core.files.uploadedfile import SimpleUploadedFile

                for k, v in parts["file"]:
                    data[k] = SimpleUploadedFile(v, v.encode("utf-8"))
            kwargs["data"] = data
        elif parts["body"]:
            kwargs.update(data="".join(v for _, v in parts["body"]), content_type="text/plain")
        sent = describe_request(method, url, parts)
        if method == "GET":
            kwargs.pop("data", None)
            kwargs.pop("content_type", None)
        try:
            resp = (
                self.client.generic(method, url, **{k: v for k, v in kwargs.items() if k != "data"})
                if method not in ("GET", "POST")
                else getattr(self.client, method.lower())(url, **kwargs)
            )
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise
        body = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
        return sent, (resp.status_code, list(resp.items()), body)


def load(job: dict[str, Any], root: str) -> DjangoApp:
    spec = (job.get("apps") or [{}])[0]
    os.environ["DJANGO_SETTINGS_MODULE"] = spec.get("module") or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return DjangoApp(root)
