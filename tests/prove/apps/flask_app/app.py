"""A small Flask app with one vulnerable and one safe route per class (mamori's PoV tests)."""

import os
import sqlite3
import subprocess

from flask import Flask, redirect, request
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
