"""Checks that need no flow: one finding and one safe counterpart each."""

import hashlib
import os
import random
import secrets
import ssl
import tempfile

import requests
from Crypto.Cipher import AES, DES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask, make_response

app = Flask(__name__)

API_KEY = "sk_live_4f9a8b7c6d5e"  # expect: PY-SECRET
API_KEY_FROM_ENV = os.environ.get("API_KEY", "")
password = "changeme"  # expect: PY-SECRET (a default credential that ships)


def digest(data):
    weak = hashlib.md5(data).hexdigest()  # expect: PY-WEAKHASH
    also_weak = hashlib.new("sha1", data)  # expect: PY-WEAKHASH
    etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    strong = hashlib.sha256(data).hexdigest()
    return weak, also_weak, etag, strong


def token():
    weak = random.randint(0, 10**6)  # expect: PY-WEAKRAND
    strong = secrets.token_urlsafe(32)
    also_strong = random.SystemRandom().randint(0, 10**6)
    return weak, strong, also_strong


@app.route("/cookie")
def cookie():
    resp = make_response("ok")
    resp.set_cookie("session", secrets.token_hex(16))  # expect: PY-COOKIE
    resp.set_cookie("session2", secrets.token_hex(16), secure=True, httponly=True)
    return resp


def fetch(url):
    insecure = requests.get(url, verify=False)  # expect: PY-TLS
    secure = requests.get(url, timeout=5)
    context = ssl._create_unverified_context()  # expect: PY-TLS
    return insecure, secure, context


def encrypt(key, data):
    weak = DES.new(key, DES.MODE_CBC)  # expect: PY-CIPHER
    ecb = Cipher(algorithms.AES(key), modes.ECB())  # expect: PY-CIPHER
    good = AES.new(key, AES.MODE_GCM)
    return weak, ecb, good


def scratch():
    name = tempfile.mktemp()  # expect: PY-TEMPFILE
    fd, safe = tempfile.mkstemp()
    return name, fd, safe


def share(path):
    os.chmod(path, 0o777)  # expect: PY-PERMS
    os.chmod(path, 0o640)


if __name__ == "__main__":
    app.run(debug=True)  # expect: PY-DEBUG
    app.run(debug=False)
