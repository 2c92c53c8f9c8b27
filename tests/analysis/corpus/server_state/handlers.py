"""A Tornado handler: the server objects hung on ``self.request`` are no client input; its
path and arguments are."""

import os

import tornado.web


class Certificate(tornado.web.RequestHandler):
    def get(self):
        p = os.path.join(self.request.master.config.cadir, "ca.pem")
        with open(p, "rb") as f:
            self.write(f.read())


class Download(tornado.web.RequestHandler):
    def get(self):
        with open("/srv/" + self.request.path, "rb") as f:  # expect: PY-PATH
            self.finish(f.read())
        with open("/srv/" + self.get_argument("name"), "rb") as f:  # expect: PY-PATH
            self.finish(f.read())
