"""An application subclassing the framework's response (found in the project, under src/):
the framework's Headers refuse CR/LF whatever class the application derives."""

from werkzeug.wrappers import Response as BaseResponse


class Response(BaseResponse):
    pass


def application(environ, start_response):
    resp = Response("moved")
    resp.headers["Location"] = environ.get("PATH_INFO", "/")
    start_response("302 Found", [("Location", environ["PATH_INFO"])])
    return [resp.body.encode()]


class PlainResponse:
    """The application's own response type: its headers are written out as they are."""

    def __init__(self, body=""):
        self.body = body
        self.headers = {}


def plain(environ, start_response):
    resp = PlainResponse("moved")
    resp.headers["Location"] = environ.get("PATH_INFO", "/")  # expect: PY-HEADER
    return [resp.body.encode()]
