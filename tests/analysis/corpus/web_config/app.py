import jwt
from flask import Flask, make_response
from flask_cors import CORS

app = Flask(__name__)
app.config["SESSION_COOKIE_HTTPONLY"] = False  # expect: PY-COOKIEFLAG
app.config["SESSION_COOKIE_SECURE"] = True
CORS(app, resources={r"/*": {"origins": "*"}})


def claims(token, key):
    unsafe = jwt.decode(token, verify=False)  # expect: PY-JWT
    also = jwt.decode(token, options={"verify_signature": False})  # expect: PY-JWT
    none = jwt.decode(token, key, algorithms=["none"])  # expect: PY-JWT
    good = jwt.decode(token, key, algorithms=["HS256"])
    return unsafe, also, none, good


@app.route("/data")
def data():
    r = make_response("x")
    r.headers.set("Access-Control-Allow-Credentials", "true")  # expect: PY-CORS
    return r
