"""A small Tornado app with vulnerable handlers and their safe twins (mamori's PoV tests)."""

import html
import os
import sqlite3

import tornado.ioloop
import tornado.web

HERE = os.path.dirname(os.path.abspath(__file__))


class SearchHandler(tornado.web.RequestHandler):
    def get(self):
        term = self.get_argument("term", "")
        con = sqlite3.connect(os.path.join(HERE, "app.sqlite"))
        con.execute("CREATE TABLE IF NOT EXISTS books (title TEXT)")
        rows = con.execute("SELECT title FROM books WHERE title LIKE '%" + term + "%'").fetchall()
        self.write({"rows": rows})


class SearchSafeHandler(tornado.web.RequestHandler):
    def get(self):
        term = self.get_argument("term", "")
        con = sqlite3.connect(os.path.join(HERE, "app.sqlite"))
        con.execute("CREATE TABLE IF NOT EXISTS books (title TEXT)")
        rows = con.execute("SELECT title FROM books WHERE title LIKE ?", ("%" + term + "%",)).fetchall()
        self.write({"rows": rows})


class EchoHandler(tornado.web.RequestHandler):
    def post(self):
        msg = self.get_body_argument("msg", "")
        self.write("<p>" + msg + "</p>")


class EchoSafeHandler(tornado.web.RequestHandler):
    def post(self):
        msg = self.get_body_argument("msg", "")
        self.write("<p>" + html.escape(msg) + "</p>")


class ReadHandler(tornado.web.RequestHandler):
    def get(self, name):
        with open(os.path.join(HERE, "docs", name)) as fh:
            self.write(fh.read())


def make_app():
    return tornado.web.Application(
        [
            (r"/search", SearchHandler),
            (r"/search-safe", SearchSafeHandler),
            (r"/echo", EchoHandler),
            (r"/echo-safe", EchoSafeHandler),
            (r"/read/(.*)", ReadHandler),
        ]
    )


if __name__ == "__main__":
    make_app().listen(8888, address="127.0.0.1")
    tornado.ioloop.IOLoop.current().start()
