import sqlite3

from flask import request


def view():
    name = request.args.get("name")
    cur = sqlite3.connect("db").cursor()
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
    return "ok"
