import os

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping", methods=["POST"])
def ping():
    ip = request.form["ip"].replace(";", "").replace("&", "").replace("`", "")
    os.system("ping -c1 " + ip)  # expect: PY-CMDI
    clean = ip.replace("|", "").replace("$", "")
    os.system("ping -c1 " + clean)
    return "ok"
