"""Context values the template prints unescaped are reported at the template's line."""

from flask import Flask, render_template, request
from markupsafe import escape

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return render_template("hello.html", name=name, title="Hello")


@app.route("/escaped")
def escaped():
    name = escape(request.args.get("name", ""))
    return render_template("hello.html", name=name, title="Hello")


@app.route("/plain")
def plain():
    return render_template("plain.html", name=request.args.get("name", ""))


@app.route("/link")
def link():
    return render_template("link.html", url=request.args.get("next", ""))
