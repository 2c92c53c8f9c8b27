"""Flask driver of the harness: the app as ``flask run`` finds it, requests through test_client."""

from __future__ import annotations

import importlib
import io
import re
from typing import Any
from urllib.parse import quote, urlencode

from pov_common import (
    Route,
    call_factory,
    choose_method,
    code_span,
    cookie_header,
    describe_request,
    pick_route,
    split_inputs,
)

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _find_app(job: dict[str, Any]) -> Any:
    import flask
    from flask.cli import find_best_app

    errors: list[str] = []
    for spec in job.get("apps") or []:
        try:
            module = importlib.import_module(spec["module"])
        except Exception as exc:
            errors.append(f"{spec['module']}: {type(exc).__name__}: {exc}")
            continue
        attr = spec.get("attr")
        try:
            if attr:
                value = getattr(module, attr)
                if not isinstance(value, flask.Flask) and callable(value):
                    value = call_factory(value)
                if isinstance(value, flask.Flask):
                    return value
                errors.append(f"{spec['module']}:{attr} is not a Flask app")
                continue
            return find_best_app(module)
        except Exception as exc:
            errors.append(f"{spec['module']}: {type(exc).__name__}: {exc}")
    raise RuntimeError("; ".join(errors) or "no Flask application found (app = Flask(...) or create_app())")


class FlaskApp:
    def __init__(self, app: Any, root: str) -> None:
        self.app = app
        self.root = root
        self.client = app.test_client(use_cookies=False)  # the Cookie header is sent as built
        self.routes: list[Route] = []
        for rule in app.url_map.iter_rules():
            view = app.view_functions.get(rule.endpoint)
            span = code_span(view) if view is not None else None
            if span is None:
                view_class = getattr(view, "view_class", None)
                spans = []
                for verb in ("get", "post", "put", "patch", "delete"):
                    s = code_span(getattr(view_class, verb, None)) if view_class else None
                    if s:
                        spans.append((*s, verb.upper()))
                if not spans:
                    continue
            else:
                spans = [(*span, "")]
            params = {a: "path" for a in rule.arguments}
            methods = tuple(sorted(rule.methods or ("GET",)))
            self.routes.append(Route(methods, rule.rule, spans, rule, params))
        # code every request runs (before_request hooks) and the page for an unknown URL
        # (errorhandler(404)): reached through a URL no rule matches, or any URL
        hooks = [f for funcs in app.before_request_funcs.values() for f in funcs]
        from werkzeug.exceptions import NotFound

        missing = [
            f
            for by_code in app.error_handler_spec.values()
            for code, handlers in by_code.items()
            for cls, f in handlers.items()
            if code == 404 or (code is None and isinstance(cls, type) and issubclass(NotFound, cls))
        ]
        for path, funcs in (("/", hooks), ("/mamori-no-such-page", missing)):
            spans = [(*s, "") for s in map(code_span, funcs) if s]
            if spans:
                self.routes.append(Route(("GET", "POST"), path, spans, None, {}))

    def route_for(self, steps: list[list[Any]], method: str | None) -> Route | None:
        return pick_route(self.routes, self.root, steps, method)

    def send(
        self, route: Route, req: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[int, list[tuple[str, str]], bytes]]:
        method = choose_method(route, req)
        parts = split_inputs(req, route.params, method)
        given = dict(parts["path"])
        url = _CONVERTER.sub(
            lambda m: quote(
                given.get(m["name"], "1" if m["conv"] in ("int", "float") else "mamori"), safe=""
            ),
            route.path,
        )
        if parts["query"]:
            url += "?" + urlencode(parts["query"], quote_via=quote)
        headers = list(parts["header"])
        if parts["cookie"]:
            headers.append(("Cookie", cookie_header(parts["cookie"])))
        kwargs: dict[str, Any] = {"method": method, "headers": headers}
        if parts["json"]:
            kwargs["json"] = dict(parts["json"])
        elif parts["form"] or parts["file"]:
            data: dict[str, Any] = {}
            for k, v in parts["form"]:
                data.setdefault(k, []).append(v)
            for k, v in parts["file"]:
                data[k] = (io.BytesIO(v.encode("utf-8")), v)
            kwargs["data"] = data
        elif parts["body"]:
            kwargs["data"] = "".join(v for _, v in parts["body"]).encode("utf-8")
            kwargs["content_type"] = "text/plain"
        sent = describe_request(method, url, parts)
        try:
            resp = self.client.open(url, **kwargs)
        except BaseException as exc:
            exc.mamori_request = sent  # type: ignore[attr-defined]
            raise
        body = resp.get_data()
        return sent, (resp.status_code, list(resp.headers.items()), body)


def load(job: dict[str, Any], root: str) -> FlaskApp:
    return FlaskApp(_find_app(job), root)
