import os
import tornado.web


class H(tornado.web.RequestHandler):
    def get(self):
        os.system("a " + self.get_argument("a"))  # expect: PY-CMDI
        os.system("a " + self.get_query_argument("a"))  # expect: PY-CMDI
        os.system("a " + self.get_body_argument("a"))  # expect: PY-CMDI
        os.system("a " + self.get_arguments("a")[0])  # expect: PY-CMDI
        os.system("a " + self.request.body.decode())  # expect: PY-CMDI
        os.system("a " + self.request.arguments["a"][0].decode())  # expect: PY-CMDI
