"""Proofs written out as pytest tests that replay the request through the framework's test client.

Each test starts the app the way the harness did, sends the proof's request and asserts that
the vulnerability is gone (the canary does not act at the sink): it fails while the hole is
open and passes once it is fixed, so the project can keep it as a regression test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mamori.model import Finding
from mamori.prove._apps import AppSpec, specs_for

_HEADER = '''"""Proofs of vulnerability found by mamori (`mamori prove --write-tests`).

Each test replays a request that showed a vulnerability and fails while it is still there.
Run with the app's own interpreter from the project root: `python -m pytest {name}`.
"""

import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), {up!r}))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mamori_pov_hooks as hooks  # noqa: E402  (mamori's sink watcher, written beside this file)

hooks.install(ROOT)


def watched(send, client, marks, *args):
    hooks.begin(marks)
    try:
        status, headers, body = send(client, *args)
    finally:
        events = hooks.end()
    return status, headers, body, events
'''

_CLIENTS = {
    "flask": """

@pytest.fixture(scope="module")
def client():
    import importlib

    module = importlib.import_module({module!r})
    app = getattr(module, {attr!r}, None)
    if app is None or (callable(app) and not hasattr(app, "test_client")):
        from flask.cli import find_best_app

        app = app() if callable(app) else find_best_app(module)
    return app.test_client(use_cookies=False)


def send(client, method, url, headers, form, json_body):
    kwargs = {{"method": method, "headers": headers}}
    if json_body is not None:
        kwargs["json"] = json_body
    elif form:
        kwargs["data"] = form
    resp = client.open(url, **kwargs)
    return resp.status_code, dict(resp.headers), resp.get_data(as_text=True)
""",
    "asgi": """

@pytest.fixture(scope="module")
def client():
    import importlib

    from starlette.testclient import TestClient

    app = getattr(importlib.import_module({module!r}), {attr!r})
    return TestClient(app, raise_server_exceptions=False)


def send(client, method, url, headers, form, json_body):
    resp = client.request(method, url, headers=headers, data=form or None, json=json_body, follow_redirects=False)
    return resp.status_code, dict(resp.headers), resp.text
""",
    "django": """

@pytest.fixture(scope="module")
def client():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", {module!r})
    import django
    from django.conf import settings

    django.setup()
    settings.ALLOWED_HOSTS = ["*"]
    from django.test import Client

    return Client(raise_request_exception=False)


def send(client, method, url, headers, form, json_body):
    import json

    if json_body is not None:
        resp = client.generic(method, url, json.dumps(json_body), "application/json", headers=headers)
    elif method == "GET":
        resp = client.get(url, headers=headers)
    else:
        resp = client.post(url, form, headers=headers)
    return resp.status_code, dict(resp.items()), resp.content.decode("utf-8", "replace")
""",
}
_LOOPBACK = """

@pytest.fixture(scope="module")
def client():
    # the app's own server on 127.0.0.1, started as mamori's harness starts it (files beside this one)
    import {driver} as driver

    return driver.load({{"apps": [{{"module": {module!r}, "attr": {attr!r}}}]}}, ROOT)


def send(client, method, url, headers, form, json_body):
    import pov_http
    from pov_common import PLACES

    parts = {{place: [] for place in PLACES}}
    parts["header"] = list(headers.items())
    parts["form"] = [(k, v) for k, values in form.items() for v in values]
    parts["json"] = list((json_body or {{}}).items())
    status, got, body = pov_http.send(client.port, method, url, parts)
    return status, dict(got), body.decode("utf-8", "replace")
"""
_LOOPBACK_DRIVERS = {
    "aiohttp": "pov_aiohttp",
    "tornado": "pov_tornado",
    "wsgi": "pov_wsgi",
    "httpserver": "pov_wsgi",
}
"""Frameworks whose tests drive the app's own server on loopback, and the harness driver for each."""


def _client(fw: str, spec: AppSpec) -> str:
    if fw in _LOOPBACK_DRIVERS:
        return _LOOPBACK.format(driver=_LOOPBACK_DRIVERS[fw], module=spec.module, attr=spec.attr)
    return _CLIENTS[fw].format(module=spec.module, attr=spec.attr or "app")


def _test_name(f: Finding, n: int) -> str:
    stem = re.sub(r"\W+", "_", Path(f.location.path).stem).strip("_").lower() or "app"
    return f"test_{f.rule_id.lower().replace('-', '_')}_{stem}_{f.location.line}_{n}"


def _assertion(f: Finding) -> str:
    """What must hold once the hole is fixed, from what the proof observed."""
    proof = f.proof
    assert proof is not None and proof.observed is not None
    value = str(proof.observed.get("value", ""))
    sink = str(proof.observed.get("sink", ""))
    payload = str(proof.observed.get("payload", ""))
    if f.rule_id == "PY-REDIRECT":
        return f"    assert {value!r} not in headers.get('Location', '')\n"
    if sink in ("response", "template rendering", "xml parser", "response header"):
        return f"    assert {value!r} not in body and {value!r} not in str(headers)\n"
    if (
        sink in ("evaluated", "xpath.evaluated", "pickle.find_class", "import")
        or "socket" in sink
        or "connect" in sink
    ):
        payload = str(proof.observed.get("canary", payload))  # the effect itself carries the canary
    return (
        "    # the payload must no longer reach the sink the proof saw, verbatim\n"
        f"    assert not [e for e in events if e.get('sink') == {sink!r} and {payload!r} in str(e)], events\n"
    )


def write_tests(out: Path, root: Path, findings: list[Finding], apps: list[AppSpec]) -> list[Path]:
    """Write one pytest file per framework under ``out`` with a test per proven finding."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    proven = [f for f in findings if f.proof is not None and f.proof.status == "proven" and f.proof.request]
    by_app: dict[tuple[str, AppSpec | None], list[Finding]] = {}
    for f in proven:
        fw = str((f.proof.observed or {}).get("framework", "flask")) if f.proof else "flask"
        # the app nearest the finding's file (a project of several apps of one framework)
        spec = next(iter(specs_for([a for a in apps if a.framework == fw], f.location.path)), None)
        by_app.setdefault((fw, spec), []).append(f)
    per_fw: dict[str, int] = {}
    for (fw, spec), members in by_app.items():
        if spec is None or (fw not in _CLIENTS and fw not in _LOOPBACK_DRIVERS):
            continue
        per_fw[fw] = per_fw.get(fw, 0) + 1
        name = f"test_mamori_pov_{fw}.py" if per_fw[fw] == 1 else f"test_mamori_pov_{fw}_{per_fw[fw]}.py"
        up = os.path.relpath(root.resolve() / spec.cwd, out.resolve())
        text = _HEADER.format(name=name, up=up) + _client(fw, spec)
        for n, f in enumerate(members):
            req: dict[str, Any] = dict(f.proof.request) if f.proof and f.proof.request else {}
            headers = {str(k): str(v) for k, v in req.get("header", []) or []}
            cookies = req.get("cookie") or []
            if cookies:
                from mamori.prove.harness.pov_common import cookie_header

                headers["Cookie"] = cookie_header([(str(k), str(v)) for k, v in cookies])
            form: dict[str, list[str]] = {}
            for k, v in req.get("form", []) or []:
                form.setdefault(str(k), []).append(str(v))
            json_body = dict(req["json"]) if req.get("json") else None
            why = " ".join((f.proof.reason if f.proof else "").split())[:150]
            marks = [str((f.proof.observed or {}).get("canary", ""))] if f.proof else []
            text += (
                f"\n\ndef {_test_name(f, n)}(client):\n"
                f"    # {f.rule_id} at {f.location.path}:{f.location.line}: {why}\n"
                f"    status, headers, body, events = watched(send, client, {marks!r}, {req.get('method', 'GET')!r}, "
                f"{req.get('url', '/')!r}, {headers!r}, {form!r}, {json_body!r})\n" + _assertion(f)
            )
        path = out / name
        path.write_text(text, encoding="utf-8")
        harness = Path(__file__).with_name("harness")
        (out / "mamori_pov_hooks.py").write_text(
            (harness / "pov_hooks.py").read_text(encoding="utf-8"), encoding="utf-8"
        )
        if fw in _LOOPBACK_DRIVERS:
            for module in ("pov_common", "pov_http", _LOOPBACK_DRIVERS[fw]):
                source = harness / f"{module}.py"
                (out / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    return written
