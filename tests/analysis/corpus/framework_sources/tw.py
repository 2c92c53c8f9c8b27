import os
from twisted.web import resource, server


class Page(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        os.system("a " + request.args[b"x"][0].decode())  # expect: PY-CMDI
        os.system("a " + request.getHeader("x"))  # expect: PY-CMDI
        return b"ok"

    def render_POST(self, request):
        os.system("a " + request.content.read().decode())  # expect: PY-CMDI
        return b"ok"
