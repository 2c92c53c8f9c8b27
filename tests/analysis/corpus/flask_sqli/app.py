import sqlite3

from flask import request


def view():
    name = request.args.get("name")
    query = "SELECT * FROM users WHERE name = '%s'" % name
    cur = sqlite3.connect("db").cursor()
    cur.execute(query)  # expect: PY-SQLI
    return "ok"
