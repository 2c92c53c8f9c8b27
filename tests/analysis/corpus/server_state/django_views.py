"""Django views: request metadata the server sets versus entries the client sends, file
metadata in headers, and the user an authentication backend returns."""

import mimetypes
import os
from urllib.request import url2pathname

from django.contrib.auth import authenticate
from django.http import FileResponse, HttpResponse
from django.utils.http import http_date


def remember_token(request):
    # CSRF_COOKIE is stored in META by Django's own middleware, not sent by the client
    request.session["csrf"] = request.META["CSRF_COOKIE"]
    request.session["user"] = request.META.get("REMOTE_USER", "")
    return HttpResponse("ok")


def remember_agent(request):
    request.session["agent"] = request.META["HTTP_USER_AGENT"]  # expect: PY-TRUST
    request.session["ref"] = request.META.get("HTTP_REFERER")  # expect: PY-TRUST
    return HttpResponse("ok")


def login_view(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is not None:
        request.session["uid"] = user.pk
    request.session["typed"] = request.POST["username"]  # expect: PY-TRUST
    return HttpResponse("ok")


def serve(request, name):
    path = os.path.join("/srv/files", os.path.basename(name))
    stat = os.stat(path)
    content_type, encoding = mimetypes.guess_type(path)
    response = FileResponse(open(path, "rb"), content_type=content_type or "application/octet-stream")
    response.headers["Last-Modified"] = http_date(stat.st_mtime)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    # Django raises BadHeaderError on CR/LF in a header value
    response.headers["X-Requested"] = request.GET["label"]
    return response


def from_url(request):
    local = url2pathname(request.GET["p"])
    with open(local) as fh:  # expect: PY-PATH
        return HttpResponse(fh.read())
