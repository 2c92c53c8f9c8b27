from flask import Flask, make_response, request, send_file, send_from_directory
from lxml import etree

app = Flask(__name__)


@app.route("/echo")
def echo():
    return "<p>" + request.args["q"] + "</p>"  # expect: PY-XSS


@app.route("/header")
def header():
    value = request.args.get("v", "")
    # the header goes into Werkzeug's Headers, which refuse CR/LF
    resp = make_response(("saved", {"X-Value": value}))
    return resp


@app.route("/body")
def body():
    resp = make_response("<b>" + request.form["name"] + "</b>")  # expect: PY-XSS
    return resp


@app.route("/xpath")
def xpath():
    name = request.args.get("name", "")
    root = etree.parse("employees.xml")
    return str(len(root.xpath(f"/staff/person[@name='{name}']")))  # expect: PY-XPATHI


@app.route("/xpath-quotes-removed")
def xpath_quotes_removed():
    name = request.args.get("name", "").replace("'", "")
    root = etree.parse("employees.xml")
    return str(len(root.xpath(f"/staff/person[@name='{name}']")))


@app.route("/download", methods=["POST"])
def download():
    # the response holds the file's bytes, not the client's text; send_from_directory joins
    # the name safely under its folder, the folder is the sink
    pdf = request.form["pdf_id"] + ".pdf"
    sent = send_from_directory(directory=".", path=pdf, mimetype="application/pdf")
    return sent if request.form.get("inline") else send_file(pdf)  # expect: PY-PATH


@app.route("/folder")
def folder():
    return send_from_directory(request.args["d"], "index.html")  # expect: PY-PATH
