"""Views of the framework scanned as a project."""

import os

from django.utils._os import safe_join


def serve(request, document_root):
    name = request.GET["name"]
    with open(safe_join(document_root, name), "rb") as fh:
        data = fh.read()
    with open(os.path.join(document_root, name), "rb") as fh:  # expect: PY-PATH
        data += fh.read()
    return data
