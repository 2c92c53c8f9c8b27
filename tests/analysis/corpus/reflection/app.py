from flask import Flask, request

import helpers

app = Flask(__name__)


def ping():
    return "pong"


@app.route("/disp")
def disp():
    globals()[request.args["fn"]]()  # expect: PY-CODEI
    getattr(helpers, request.args["fn"])()  # expect: PY-CODEI
    getattr(helpers, "cmd_" + request.args["fn"])()
    globals()["ping"]()
    return "ok"
