"""A small Flask app with one vulnerable and one safe route per class (mamori's PoV tests)."""

import os
import sqlite3
import subprocess

from flask import Flask, redirect, render_template_string, request
from markupsafe import escape

app = Flask(__name__)
HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.join(HERE, "app.sqlite")


def db():
    con = sqlite3.connect(DB)
    con.execute("CREATE TABLE IF NOT EXISTS users (name TEXT, password TEXT)")
    return con


@app.route("/users")
def users():
    name = request.args.get("name", "")
    rows = db().execute(f"SELECT name FROM users WHERE name = '{name}'").fetchall()
    return {"rows": rows}


@app.route("/users-safe")
def users_safe():
    name = request.args.get("name", "")
    rows = db().execute("SELECT name FROM users WHERE name = ?", (name,)).fetchall()
    return {"rows": rows}


@app.route("/hello", methods=["POST"])
def hello():
    who = request.form["who"]
    return f"<p>Hello {who}</p>"


@app.route("/hello-safe", methods=["POST"])
def hello_safe():
    who = request.form["who"]
    return f"<p>Hello {escape(who)}</p>"


@app.route("/ping")
def ping():
    host = request.headers.get("X-Host", "localhost")
    if request.args.get("mode") == "fast":
        out = subprocess.run(f"echo {host}", shell=True, capture_output=True, text=True)
        return out.stdout
    return "slow"


@app.route("/ping-safe")
def ping_safe():
    host = request.headers.get("X-Host", "localhost")
    out = subprocess.run(["echo", host], capture_output=True, text=True)
    return out.stdout


@app.route("/files/<name>")
def files(name):
    with open(os.path.join(HERE, "static", name)) as fh:
        return fh.read()


@app.route("/download")
def download():
    name = request.cookies.get("doc", "readme.txt")
    try:
        with open(os.path.join(HERE, "static", name)) as fh:
            return fh.read()
    except OSError:
        return "no such file", 404


@app.route("/download-safe")
def download_safe():
    name = os.path.basename(request.cookies.get("doc", "readme.txt"))
    try:
        with open(os.path.join(HERE, "static", name)) as fh:
            return fh.read()
    except OSError:
        return "no such file", 404


@app.route("/go")
def go():
    return redirect(request.args.get("next", "/"))


@app.route("/calc", methods=["POST"])
def calc():
    expr = request.get_json()["expr"]
    return str(eval(expr))


@app.route("/archive")
def archive():
    kind = request.values.get("kind") if request.values.get("kind") else "access"
    return os.popen("zip log.zip " + kind + "_log.txt").read()


@app.route("/upload", methods=["POST"])
def upload():
    doc = request.files["doc"]
    if doc.filename.rsplit(".", 1)[-1] in ("txt", "pdf"):
        doc.save(os.path.join(HERE, "uploads", doc.filename))
        return "saved"
    return "refused", 400


@app.route("/upload-safe", methods=["POST"])
def upload_safe():
    doc = request.files["doc"]
    if doc.filename.rsplit(".", 1)[-1] in ("txt", "pdf"):
        doc.save(os.path.join(HERE, "uploads", os.path.basename(doc.filename)))
        return "saved"
    return "refused", 400


@app.route("/read", methods=["POST"])
def read():
    name = request.form["name"].replace("../", "")
    with open(HERE + "/static/" + name) as fh:
        return fh.read()


@app.errorhandler(404)
def not_found(e):
    page = """<h1>Not found</h1>
<p>{}</p>""".format(request.url)
    return render_template_string(page), 404


@app.route("/members")
def members():
    name = request.args.get("name", "").lower()
    rows = db().execute(f"SELECT name, password FROM users WHERE name = '{name}'").fetchall()
    return {"rows": rows}


@app.route("/signup", methods=["POST"])
def signup():
    user = request.form["user"]
    secret = request.form["secret"]
    db().execute(f"INSERT INTO users VALUES ('{user}', '{len(secret)}')")
    return "ok"
