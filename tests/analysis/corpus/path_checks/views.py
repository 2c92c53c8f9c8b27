import os

from flask import Flask, request

app = Flask(__name__)
BASE = "/srv/files"


@app.route("/files/<path:name>")
def dynamic_route(name):
    # the request path holds the client's <name>
    return open(BASE + request.path)  # expect: PY-PATH


@app.route("/about")
def static_route():
    # a fixed route: Werkzeug dispatched here only because the path is exactly "/about"
    return open(BASE + request.path)


@app.route("/read")
def checked_for_parent_steps():
    name = request.args.get("name", "")
    if "../" in name:
        return "bad name"
    return open(f"{BASE}/{name}").read()


@app.route("/read-unchecked")
def unchecked():
    name = request.args.get("name", "")
    return open(f"{BASE}/{name}").read()  # expect: PY-PATH


@app.route("/segment")
def one_segment():
    segments = request.args.get("p", "").split("/")
    last = segments[-1]
    return open(os.path.join(BASE, last)).read()


@app.route("/rejoined")
def rejoined():
    segments = request.args.get("p", "").split("/")
    again = "/".join(segments)
    return open(os.path.join(BASE, again)).read()  # expect: PY-PATH
