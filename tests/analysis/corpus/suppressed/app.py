import hashlib
import os

from flask import request


def view():
    os.system(request.args["c"])  # mamori: ignore[PY-CMDI] admin-only endpoint behind VPN
    return hashlib.md5(b"x").hexdigest()  # expect: PY-WEAKHASH
