import http.server
import os
import re
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        # DSVW's shape: (path, query) from a split or from a tuple literal, then a dict built
        # by a generator over re.finditer on the query
        path, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        os.system("echo " + query)  # expect: PY-CMDI
        params = dict(
            (m.group("p"), urllib.parse.unquote(",".join(re.findall(r"p=([^&]+)", query))))
            for m in re.finditer(r"(?P<p>\w+)=", query)
        )
        os.system("nslookup " + params["domain"])  # expect: PY-CMDI
        first, rest = ("", "") if path else ("ls", "x")
        os.system(first + rest)
        self.send_response(200)
