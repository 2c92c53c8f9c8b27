import os
from flask import Flask, request
from flask_wtf import FlaskForm
from wtforms import StringField

app = Flask(__name__)


class PingForm(FlaskForm):
    host = StringField("host")


@app.route("/ping", methods=["POST"])
def ping():
    form = PingForm()
    if form.validate_on_submit():
        os.system("ping " + form.host.data)  # expect: PY-CMDI
    return "ok"


@app.route("/ping2", methods=["POST"])
def ping2():
    form = PingForm(request.form)
    os.system("ping " + form.host.data)  # expect: PY-CMDI
    return "ok"


@app.route("/ping3", methods=["POST"])
def ping3():
    form = PingForm()
    os.system("echo " + str(form.host.label))
    return "ok"
