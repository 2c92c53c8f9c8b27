from flask import request

from app.util import Runner
from app.util import passthrough as keep


def view():
    data = keep(request.form["cmd"])
    Runner("echo ").run(data)
    return "done"
