import xml.dom.minidom
import xml.sax
from xml.sax.handler import feature_external_ges

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/sax-entities-on")
def sax_entities_on():
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    doc = xml.dom.minidom.parseString(request.data, parser)  # expect: PY-XXE
    return "parsed" if doc else "empty"


@app.route("/sax-default")
def sax_default():
    parser = xml.sax.make_parser()
    doc = xml.dom.minidom.parseString(request.data, parser)
    return "parsed" if doc else "empty"


@app.route("/sax-entities-off")
def sax_entities_off():
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, False)
    doc = xml.dom.minidom.parseString(request.data, parser)
    return "parsed" if doc else "empty"


@app.route("/lxml-resolving")
def lxml_resolving():
    parser = etree.XMLParser(resolve_entities=True)
    root = etree.fromstring(request.get_data(), parser)  # expect: PY-XXE
    return "parsed" if root is not None else "empty"


@app.route("/lxml-hardened")
def lxml_hardened():
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(request.get_data(), parser)
    return "parsed" if root is not None else "empty"


@app.route("/lxml-constant")
def lxml_constant():
    parser = etree.XMLParser(resolve_entities=True)
    root = etree.fromstring(b"<a>fixed</a>", parser)
    return "parsed" if root is not None else "empty"


def make_unsafe_parser():
    p = xml.sax.make_parser()
    p.setFeature("http://xml.org/sax/features/external-general-entities", True)
    return p


@app.route("/helper-parser")
def helper_parser():
    parser = make_unsafe_parser()
    parser.parse(request.files["doc"])  # expect: PY-XXE
    return "ok"
