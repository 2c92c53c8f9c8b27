"""A check for absent characters holds for the text it was made on: decoding afterwards
(``%2e%2e%2f`` is ``../``) brings them back; a check on the decoded text still holds."""

import base64
import os
import urllib.parse

from flask import Flask, request

app = Flask(__name__)


@app.route("/read", methods=["POST"])
def read():
    filename = urllib.parse.unquote(request.form["filename"])
    if "../" not in filename:
        filename = urllib.parse.unquote(filename)
        with open("files/" + filename) as fh:  # expect: PY-PATH
            return fh.read()
    return "try harder"


@app.route("/checked")
def checked():
    name = urllib.parse.unquote(request.args["name"])
    if ".." in name or "/" in name:
        return "no"
    with open(os.path.join("files", name)) as fh:
        return fh.read()


@app.route("/b64")
def b64():
    cmd = request.args["c"]
    if ";" in cmd or "|" in cmd or "&" in cmd or "`" in cmd or "$" in cmd:
        return "no"
    os.system("echo " + base64.b64decode(cmd).decode())  # expect: PY-CMDI
    return "ok"
