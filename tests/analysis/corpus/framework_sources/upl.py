import os
from flask import Flask, request
from werkzeug.datastructures import FileStorage

app = Flask(__name__)


@app.route("/up", methods=["POST"])
def up():
    f = request.files["file"]
    open(os.path.join("/srv/up", f.filename), "wb").write(f.read())  # expect: PY-PATH
    g = request.files.get("g")
    os.system("file " + g.filename)  # expect: PY-CMDI
    return "ok"


def store(fs: FileStorage):  # not a request: a helper typed with the class
    os.system("file " + fs.filename)
