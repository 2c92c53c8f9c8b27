import os

from flask import Flask, current_app, request
from werkzeug.utils import secure_filename

app = Flask(__name__)


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    f.save(os.path.join("uploads", f.filename))  # expect: PY-PATH
    f.save(os.path.join("uploads", secure_filename(f.filename)))
    return "ok"


@app.route("/read", methods=["POST"])
def read():
    name = request.form["name"].replace("../", "")
    with current_app.open_resource(name) as fh:  # expect: PY-PATH
        return fh.read()
