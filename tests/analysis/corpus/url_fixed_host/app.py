"""URLs whose scheme and host are fixed text: the attacker's part cannot choose the host."""

import requests
from flask import Flask, redirect, request

app = Flask(__name__)
BASE = "https://api.example.org/v1/"


@app.route("/fetch")
def fetch():
    requests.get(request.args["url"])  # expect: PY-SSRF
    return "fetched"


@app.route("/search")
def search():
    q = request.args["q"]
    a = requests.get("https://api.example.org/search?q=" + q)
    b = requests.get("https://api.example.org/items/{}".format(q))
    c = requests.post(f"https://api.example.org/items/{q}/tags")
    d = requests.get(BASE + q)
    e = requests.get("https://api.example.org/" + q + "/" + q)
    f = requests.get("https://api.example.org/%s" % q)
    return "ok" if all(r.ok for r in (a, b, c, d, e, f)) else "failed"


@app.route("/host")
def host():
    q = request.args["q"]
    a = requests.get("https://api.example.org" + q)  # expect: PY-SSRF
    b = requests.get("https://{}/x".format(q))  # expect: PY-SSRF
    c = requests.get(f"https://{q}/x")  # expect: PY-SSRF
    d = requests.get("https://%s/x" % q)  # expect: PY-SSRF
    return "ok" if all(r.ok for r in (a, b, c, d)) else "failed"


@app.route("/go")
def go():
    nxt = request.args["next"]
    if request.args.get("mode") == "fixed":
        return redirect("https://example.org/" + nxt)
    return redirect(nxt)  # expect: PY-REDIRECT
