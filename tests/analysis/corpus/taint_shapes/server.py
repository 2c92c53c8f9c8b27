import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        query = urlparse(self.path).query
        params = parse_qs(query)
        name = params.get("name", [""])[0]
        os.system("echo " + name)  # expect: PY-CMDI
        qs = dict(parse_qs(urlparse(self.path).query))
        os.system("ls " + qs["d"][0])  # expect: PY-CMDI
        self.send_response(200)

    def do_POST(self):
        os.system("echo hello")


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
