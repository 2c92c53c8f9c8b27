"""A plain WSGI application (no framework) with vulnerable paths and their safe twins."""

import html
import sqlite3
import subprocess
from urllib.parse import parse_qs


def _db():
    con = sqlite3.connect("app.sqlite")
    con.execute("CREATE TABLE IF NOT EXISTS users (name TEXT)")
    return con


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    if path == "/user":
        name = qs.get("name", [""])[0]
        rows = _db().execute("SELECT name FROM users WHERE name = '%s'" % name).fetchall()
        body = str(rows)
    elif path == "/user-safe":
        name = qs.get("name", [""])[0]
        rows = _db().execute("SELECT name FROM users WHERE name = ?", (name,)).fetchall()
        body = str(rows)
    elif path == "/hello":
        who = qs.get("who", [""])[0]
        body = "<p>Hello " + who + "</p>"
    elif path == "/hello-safe":
        who = qs.get("who", [""])[0]
        body = "<p>Hello " + html.escape(who) + "</p>"
    elif path == "/agent":
        agent = environ.get("HTTP_USER_AGENT", "")
        body = subprocess.run("echo " + agent, shell=True, capture_output=True, text=True).stdout
    else:
        body = "not found"
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode("utf-8")]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    make_server("127.0.0.1", 8000, application).serve_forever()
