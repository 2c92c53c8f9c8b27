import os
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.route("/a")
def tuple_cond():
    x = request.args.get("q", "")
    a, b = x.split("?", 1) if "?" in x else (x, "")
    os.system("echo " + a)  # expect: PY-CMDI
    return "ok"


@app.route("/a2")
def tuple_cond_safe():
    x = request.args.get("q", "")
    a, b = ("fixed", x) if "?" in x else ("other", x)
    os.system("echo " + a)
    return "ok"


@app.route("/b")
def dict_comp():
    d = {k: v for k, v in request.args.items()}
    os.system("echo " + d["x"])  # expect: PY-CMDI
    return "ok"


@app.route("/b2")
def dict_comp_safe():
    d = {k: "const" for k in ("a", "b")}
    os.system("echo " + d["a"])
    return "ok"
