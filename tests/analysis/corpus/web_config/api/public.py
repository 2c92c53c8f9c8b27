from flask import Flask, make_response

api = Flask(__name__)
api.config.update(dict(SECRET_KEY_FILE="key.txt", SESSION_COOKIE_HTTPONLY=False))  # expect: PY-COOKIEFLAG


@api.route("/public")
def public():
    r = make_response("x")
    r.headers["Access-Control-Allow-Origin"] = "*"  # expect: PY-CORS
    return r


@api.route("/fixed")
def fixed():
    r = make_response("x")
    r.headers["Access-Control-Allow-Origin"] = "https://app.example.org"
    r.headers["Access-Control-Allow-Credentials"] = "true"
    return r
