"""A WSGI application with a dispatch table of bound methods, built in __init__."""

import os
import sqlite3
from urllib.parse import parse_qs, unquote

import yaml

from service import shell


def _params(environ):
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


class Service:
    def __init__(self):
        self.db = sqlite3.connect(":memory:")
        self.routes = {
            ("GET", "/find"): self.find,
            ("GET", "/find-safe"): self.find_safe,
            ("GET", "/ping"): self.ping,
            ("GET", "/ping-safe"): self.ping_safe,
            ("POST", "/import"): self.load,
            ("POST", "/import-safe"): self.load_safe,
            ("GET", "/file"): self.file,
        }

    def find(self, environ):
        name = _params(environ).get("name", "")
        return self.db.execute(f"SELECT * FROM t WHERE name = '{name}'")  # expect: PY-SQLI

    def find_safe(self, environ):
        name = _params(environ).get("name", "")
        return self.db.execute("SELECT * FROM t WHERE name = ?", (name,))

    def ping(self, environ):
        return shell.ping(_params(environ)["host"])

    def ping_safe(self, environ):
        return shell.ping_safe(_params(environ)["host"])

    def load(self, environ):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        return yaml.load(body, Loader=yaml.Loader)  # expect: PY-DESER

    def load_safe(self, environ):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        return yaml.safe_load(body)

    def file(self, environ):
        name = unquote(environ.get("PATH_INFO", "")[len("/file/") :])
        with open(os.path.join("/srv/files", name)) as fh:  # expect: PY-PATH
            return fh.read()

    def __call__(self, environ, start_response):
        handler = self.routes.get((environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")))
        body = handler(environ) if handler is not None else "not found"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(body).encode()]


def report(environ):
    """Takes an ``environ`` but is no WSGI callable: nothing untrusted reaches it here."""
    os.system("report " + environ.get("NAME", ""))


application = Service()
