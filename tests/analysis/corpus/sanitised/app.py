import html
import os
import shlex
from pathlib import Path
from urllib.parse import urlparse

from flask import redirect, request

BASE = Path("/srv/files")


def view():
    p = request.args.get("p")
    os.system("ls " + shlex.quote(p))
    n = int(request.args.get("n"))
    os.system("sleep %d" % n)
    f = (BASE / p).resolve()
    if not str(f).startswith(str(BASE)):
        return "no"
    open(f).read()
    return "<p>" + html.escape(p) + "</p>"


def go():
    target = request.args.get("next")
    url = urlparse(target)
    if url.netloc not in ["example.org"]:
        return "bad"
    return redirect(target)


def allow():
    choice = request.args.get("c")
    if choice not in ("a", "b"):
        return "bad"
    os.system("run " + choice)
    return "ok"
