import glob
import importlib
import inspect
import os

from flask import Flask, request

app = Flask(__name__)
HANDLERS = {}
for path in glob.glob(os.path.join(os.path.dirname(__file__), "plugins", "*.py")):
    name = os.path.splitext(os.path.basename(path))[0]
    mod = importlib.import_module("plugins." + name)
    for fname, fn in inspect.getmembers(mod, inspect.isfunction):
        HANDLERS[fname] = fn


@app.route("/run/<name>")
def run(name):
    HANDLERS[name](request.args.get("t"))
    return "ok"


@app.route("/fixed/<name>")
def fixed(name):
    HANDLERS[name]("localhost")
    return "ok"
