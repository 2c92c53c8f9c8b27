import os

from flask import request


def view():
    param = request.args.get("p")
    num = 86
    bar = "constant" if 7 * 18 + num > 200 else param
    os.system("echo " + bar)
    value = param
    value = "overwritten"
    os.system(value)
    return "ok"
