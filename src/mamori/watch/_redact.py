"""URLs as the service may show them: no credentials, and no secret-bearing webhook paths.

A fleet file may hold a git remote with a token in it (``https://user:TOKEN@host/…``) or a chat
webhook whose path is its secret (``https://hooks.example/services/T000/B000/XXXX``). Log lines,
errors and ``watch status`` name them through :func:`redact`, never as written.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(url: str, *, keep_path: bool = True) -> str:
    """``url`` without user name and password (and, with ``keep_path=False``, without path or query)."""
    text = _USERINFO.sub(lambda m: m.group("scheme") + "***@", url)
    if keep_path:
        return text.split("?", 1)[0] + ("?…" if "?" in text else "")
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<url>"
    return f"{parts.scheme}://{parts.netloc}/…" if parts.scheme and parts.netloc else "<url>"


def redact_text(text: str) -> str:
    """Any ``scheme://user:secret@`` inside a message (git's own errors) without the credentials."""
    return _USERINFO.sub(lambda m: m.group("scheme") + "***@", text)
