"""A http.server (BaseHTTPRequestHandler) app with a vulnerable path and its safe twin."""

import html
import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        params = parse_qs(url.query)
        if url.path == "/find":
            item = params.get("item", [""])[0]
            con = sqlite3.connect("app.sqlite")
            con.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
            rows = con.execute("SELECT name FROM items WHERE name = '" + item + "'").fetchall()
            self._send(str(rows))
        elif url.path == "/find-safe":
            item = params.get("item", [""])[0]
            con = sqlite3.connect("app.sqlite")
            con.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
            rows = con.execute("SELECT name FROM items WHERE name = ?", (item,)).fetchall()
            self._send(html.escape(str(rows)))
        else:
            self.send_error(404)

    def _send(self, text):
        data = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
