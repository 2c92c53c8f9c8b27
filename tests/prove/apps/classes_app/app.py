"""A Flask app with a vulnerable route and its safe twin for the classes test_prove's app lacks.

SSRF, deserialisation, XXE, a path confined by ``realpath`` + prefix and an allow-listed
redirect (mamori's PoV tests: every vulnerable route is proven, no safe twin is).
"""

import base64
import json
import os
import pickle
import urllib.request
import xml.dom.minidom
import xml.sax
from urllib.parse import urlsplit
from xml.sax.handler import feature_external_ges

from flask import Flask, abort, redirect, request

app = Flask(__name__)
HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
ALLOWED_HOSTS = {"example.org"}
ALLOWED_NEXT = {"/", "/home", "/account"}


@app.route("/fetch")
def fetch():
    url = request.args.get("url", "")
    try:
        return urllib.request.urlopen(url, timeout=2).read()
    except (OSError, ValueError):
        return "unreachable", 502


@app.route("/fetch-safe")
def fetch_safe():
    url = request.args.get("url", "")
    if urlsplit(url).hostname not in ALLOWED_HOSTS:
        abort(400)
    try:
        return urllib.request.urlopen(url, timeout=2).read()
    except (OSError, ValueError):
        return "unreachable", 502


@app.route("/prefs")
def prefs():
    raw = request.cookies.get("prefs", "")
    try:
        data = pickle.loads(base64.b64decode(raw))
    except Exception:
        return "bad prefs", 400
    return {"prefs": str(data)}


@app.route("/prefs-safe")
def prefs_safe():
    raw = request.cookies.get("prefs", "")
    try:
        data = json.loads(base64.b64decode(raw))
    except Exception:
        return "bad prefs", 400
    return {"prefs": str(data)}


@app.route("/xml", methods=["POST"])
def parse_xml():
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    doc = xml.dom.minidom.parseString(request.get_data(as_text=True), parser)
    return doc.documentElement.toxml() if doc else "empty"


@app.route("/xml-safe", methods=["POST"])
def parse_xml_safe():
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, False)
    doc = xml.dom.minidom.parseString(request.get_data(as_text=True), parser)
    return doc.documentElement.toxml() if doc else "empty"


@app.route("/doc")
def doc():
    name = request.args.get("name", "readme.txt")
    try:
        with open(os.path.join(FILES, name)) as fh:
            return fh.read()
    except OSError:
        return "no such file", 404


@app.route("/doc-safe")
def doc_safe():
    name = request.args.get("name", "readme.txt")
    full = os.path.realpath(os.path.join(FILES, name))
    if not full.startswith(os.path.realpath(FILES) + os.sep):
        abort(403)
    try:
        with open(full) as fh:
            return fh.read()
    except OSError:
        return "no such file", 404


@app.route("/next")
def next_page():
    return redirect(request.args.get("to", "/"))


@app.route("/next-safe")
def next_page_safe():
    target = request.args.get("to", "/")
    if target not in ALLOWED_NEXT:
        target = "/"
    return redirect(target)
