"""ASGI driver of the harness (FastAPI, Starlette): the app object, requests through TestClient."""

from __future__ import annotations

import importlib
import re
from typing import Any
from urllib.parse import quote

from pov_common import Route, choose_method, code_span, describe_request, pick_route, split_inputs

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _find_app(job: dict[str, Any]) -> Any:
    errors: list[str] = []
    for spec in job.get("apps") or []:
        try:
            module = importlib.import_module(spec["module"])
            value = getattr(module, spec["attr"])
            if not hasattr(value, "routes") and callable(value):
                value = value()
            return value
        except Exception as exc:
            errors.append(f"{spec['module']}:{spec.get('attr')}: {type(exc).__name__}: {exc}")
    raise RuntimeError("; ".join(errors) or "no ASGI application found (app = FastAPI() / Starlette())")


def _places(route: Any) -> dict[str, str]:
    dependant = getattr(route, "dependant", None)
    out: dict[str, str] = {}
    if dependant is None:
        return out
    for attr, place in (
        ("query_params", "query"),
        ("path_params", "path"),
        ("header_params", "header"),
        ("cookie_params", "cookie"),
        ("body_params", "json"),
    ):
        for field in getattr(dependant, attr, []) or []:
            out[field.name] = place
            alias = getattr(field, "alias", None)
            if alias:
                out[alias] = place
    if len(getattr(dependant, "body_params", []) or []) == 1 and out:
        # a single body model: its fields are the JSON keys
        model = getattr(dependant.body_params[0], "type_", None) or getattr(
            dependant.body_params[0], "annotation", None
        )
        for name in getattr(model, "model_fields", {}) or {}:
            out.setdefault(name, "json")
    return out


def _walk(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for r in routes:
        sub = getattr(r, "routes", None)
        if sub is not None and not hasattr(r, "endpoint"):
            out += _walk(list(sub), prefix + getattr(r, "path", ""))
        else:
            out.append((prefix + getattr(r, "path", ""), r))
    return out


class AsgiApp:
    def __init__(self, app: Any, root: str) -> None:
        from starlette.testclient import TestClient

        self.root = root
        self.client = TestClient(app, raise_server_exceptions=False)
        self.routes: list[Route] = []
        for path, r in _walk(list(getattr(app, "routes", []))):
            span = code_span(getattr(r, "endpoint", None))
            if span is None:
                continue
            methods = tuple(sorted(getattr(r, "methods", None) or ("GET",)))
            self.routes.append(Route(methods, path, [(*span, "")], r, _places(r)))

    def route_for(self, steps: list[list[Any]], method: str | None) -> Route | None:
        return pick_route(self.routes, self.root, steps, method)

    def send(
        self, route: Route, req: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[int, list[tuple[str, str]], bytes]]:
        method = choose_method(route, req)
        parts = split_inputs(req, route.params, method)
        given = dict(parts["path"])
        url = _PARAM.sub(lambda m: quote(given.get(m[1], "1"), safe=""), route.path)
        kwargs: dict[str, Any] = {
            "params": list(parts["query"]) or None,
            "headers": dict(parts["header"]) or None,
        }
        if parts["cookie"]:
            from pov_common import cookie_header

            kwargs["headers"] = {**(kwargs["headers"] or {}), "Cookie": cookie_header(parts["cookie"])}
        if parts["json"]:
            kwargs["json"] = dict(parts["json"])
        elif parts["form"]:
            kwargs["data"] = dict(parts["form"])
        if parts["file"]:
            kwargs["files"] = {k: (v, v.encode("utf-8")) for k, v in parts["file"]}
        if parts["body"] and not parts["json"] and not parts["form"]:
            kwargs["content"] = "".join(v for _, v in parts["body"]).encode("utf-8")
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in parts["query"])
        sent = describe_request(method, url + (f"?{query}" if query else ""), parts)
        try:
            resp = self.client.request(method, url, **kwargs)
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise
        return sent, (resp.status_code, list(resp.headers.items()), resp.content)


def load(job: dict[str, Any], root: str) -> AsgiApp:
    return AsgiApp(_find_app(job), root)
