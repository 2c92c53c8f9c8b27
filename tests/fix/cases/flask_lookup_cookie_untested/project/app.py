import sqlite3

from flask import Flask, request

app = Flask(__name__)
app.config["COOKIE_SECURE"] = False


def db():
    conn = sqlite3.connect(app.config.get("DB", ":memory:"))
    conn.execute("CREATE TABLE IF NOT EXISTS users(name TEXT, role TEXT)")
    return conn


@app.route("/role")
def role():
    name = request.args.get("name", "")
    conn = db()
    conn.execute("INSERT INTO users VALUES ('a&b', 'admin')")
    row = conn.execute(f"SELECT role FROM users WHERE name = '{name}'").fetchone()
    return {"role": row[0] if row else None}


@app.route("/hello")
def hello():
    who = request.args.get("who", "")
    return f"<p>Hello {who}</p>"


@app.route("/remember")
def remember():
    resp = app.make_response("ok")
    resp.set_cookie(
        "seen", request.args.get("v", ""), secure=app.config["COOKIE_SECURE"], httponly=True, samesite="Lax"
    )
    return resp


@app.route("/report")
def report():
    day = request.args.get("day", "")
    conn = db()
    return {"rows": conn.execute("SELECT * FROM users WHERE name = '" + day + "'").fetchall()}
