"""The standard library's HTTP server writes header values as they are: a CR/LF in the
client's path splits the response."""

from http.server import BaseHTTPRequestHandler
from urllib.parse import quote


class Redirector(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "/new" + self.path)  # expect: PY-HEADER
        self.end_headers()

    def do_HEAD(self):
        self.send_response(302)
        self.send_header("Location", "/new" + quote(self.path))
        self.send_header("X-Agent", self.headers.get("User-Agent", ""))  # expect: PY-HEADER
        self.end_headers()
