"""A Tornado app that checks XSRF tokens on every POST (mamori's PoV tests)."""

import tornado.web


class NoteHandler(tornado.web.RequestHandler):
    def post(self):
        text = self.get_body_argument("text", "")
        self.write("<div>" + text + "</div>")


class App(tornado.web.Application):
    def __init__(self):
        super().__init__([(r"/note", NoteHandler)], xsrf_cookies=True)
