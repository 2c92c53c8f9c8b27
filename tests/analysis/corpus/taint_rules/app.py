"""One vulnerable and one safe view per taint rule (Flask)."""

import logging
import marshal
import pickle
import re
import shelve
from urllib.parse import urlparse

import jsonpickle
import ldap
import requests
from flask import Flask, make_response, redirect, render_template, render_template_string, request, session
from jinja2 import Template
from ldap.filter import escape_filter_chars

app = Flask(__name__)
log = logging.getLogger(__name__)
ALLOWED_HOSTS = {"api.example.org", "cdn.example.org"}


# -- SSRF ---------------------------------------------------------------------------------
@app.route("/fetch")
def fetch():
    requests.get(request.args["url"])  # expect: PY-SSRF
    return "fetched"


@app.route("/fetch-allowed")
def fetch_allowed():
    url = request.args["url"]
    if urlparse(url).hostname not in ALLOWED_HOSTS:
        return "forbidden", 403
    requests.get(url)
    return "fetched"


@app.route("/fetch-fixed")
def fetch_fixed():
    item = int(request.args["id"])
    requests.get(f"https://api.example.org/items/{item}")
    return "fetched"


# -- template injection --------------------------------------------------------------------
@app.route("/greet")
def greet():
    return render_template_string("<p>Hello " + request.args["name"] + "</p>")  # expect: PY-SSTI


@app.route("/greet-jinja")
def greet_jinja():
    Template(request.form["template"])  # expect: PY-SSTI
    return "compiled"


@app.route("/greet-safe")
def greet_safe():
    return render_template_string("<p>Hello {{ name }}</p>", name=request.args["name"])


@app.route("/greet-file")
def greet_file():
    return render_template("greet.html", name=request.args["name"])


# -- LDAP -----------------------------------------------------------------------------------
@app.route("/user")
def user():
    conn = ldap.initialize("ldap://directory")
    uid = request.args["uid"]
    conn.search_s("ou=people,dc=example", ldap.SCOPE_SUBTREE, f"(uid={uid})")  # expect: PY-LDAPI
    return "found"


@app.route("/user-safe")
def user_safe():
    conn = ldap.initialize("ldap://directory")
    uid = escape_filter_chars(request.args["uid"])
    conn.search_s("ou=people,dc=example", ldap.SCOPE_SUBTREE, f"(uid={uid})")
    return "found"


# -- deserialisation ------------------------------------------------------------------------
@app.route("/restore", methods=["POST"])
def restore():
    pickle.loads(request.get_data())  # expect: PY-DESER
    return "restored"


@app.route("/restore-code", methods=["POST"])
def restore_code():
    marshal.loads(request.data)  # expect: PY-DESER
    return "restored"


@app.route("/restore-shelf")
def restore_shelf():
    with shelve.open(request.args["shelf"]) as db:  # expect: PY-DESER
        return str(len(db))


@app.route("/restore-json", methods=["POST"])
def restore_json():
    jsonpickle.decode(request.get_data(as_text=True))  # expect: PY-DESER
    return "restored"


@app.route("/restore-own")
def restore_own():
    with open("state.pickle", "rb") as fh:
        pickle.load(fh)
    return "restored"


# -- log injection --------------------------------------------------------------------------
@app.route("/login")
def login():
    logging.info("login attempt for " + request.form["user"])  # expect: PY-LOGI
    return "ok"


@app.route("/login-safe")
def login_safe():
    name = request.form["user"].replace("\n", "").replace("\r", "")
    logging.info("login attempt for " + name)
    return "ok"


# -- header injection and open redirect -----------------------------------------------------
@app.route("/lang")
def lang():
    resp = make_response("ok")
    # Werkzeug's Headers raise ValueError on CR/LF in a value: no header can be injected
    resp.headers["Content-Language"] = request.args["lang"]
    return resp


@app.route("/lang-safe")
def lang_safe():
    resp = make_response("ok")
    choice = request.args["lang"]
    resp.headers["Content-Language"] = choice if choice in ("en", "ja", "de") else "en"
    return resp


@app.route("/next")
def next_page():
    return redirect(request.args["next"])  # expect: PY-REDIRECT


@app.route("/next-safe")
def next_safe():
    target = request.args["next"]
    if target not in ("/home", "/profile"):
        target = "/home"
    return redirect(target)


# -- trust boundary ---------------------------------------------------------------------------
@app.route("/remember")
def remember():
    session["role"] = request.args["role"]  # expect: PY-TRUST
    return "ok"


@app.route("/remember-safe")
def remember_safe():
    session["visits"] = int(request.args.get("n", "0")) + 1
    return "ok"


# -- dead code and constants ------------------------------------------------------------------
@app.route("/dead")
def dead():
    url = request.args["url"]
    if False:
        requests.get(url)
    url = "https://api.example.org/status"
    return requests.get(url).text


@app.route("/pattern")
def pattern():
    name = request.args["name"]
    if not re.fullmatch(r"[a-z]{1,16}", name):
        return "bad", 400
    return render_template_string("<p>Hello " + name + "</p>")
