import sqlite3

from flask import request


def view():
    name = request.args.get("name")
    cur = sqlite3.connect("db").cursor()
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))
    return "ok"


def get_user(db, username):
    cur = db.execute("SELECT id, name, password FROM users WHERE name = ?", [username])
    return cur.fetchall()


def login():
    from flask import session

    rows = get_user(sqlite3.connect("db"), request.form["username"])
    if rows and rows[0][2] == request.form["password"]:
        # the stored row's id, not the client's text: no trust-boundary flow
        session["user_id"] = rows[0][0]
    # the client's own text put in the session still is one
    session["typed"] = request.form["username"]  # expect: PY-TRUST
    return "ok"
