"""Server-side views (this module imports Django): `request` is the client's request."""

import subprocess

import requests
from django.http import HttpResponse


def proxy(request):
    body = requests.get(request.GET["url"]).text  # expect: PY-SSRF
    return HttpResponse(str(len(body)))


def hook(request):
    subprocess.run(request.POST["hook"], shell=True)  # expect: PY-CMDI
    return HttpResponse("ok")
