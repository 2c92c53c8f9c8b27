"""Web application checks without flow: token verification, CORS and session cookie flags.

Each is a pattern a taint engine does not see, with one CWE:

- ``PY-JWT`` (CWE-347): a JWT decoded without verifying its signature (``verify=False``,
  ``options={"verify_signature": False}``) or accepting the ``none`` algorithm;
- ``PY-CORS`` (CWE-942): ``Access-Control-Allow-Origin: *`` set by hand, or credentials allowed
  for any origin (Flask-CORS ``CORS(app, supports_credentials=True)`` with its default or a
  ``"*"`` origin, ``Access-Control-Allow-Credentials: true`` in a module allowing any origin);
- ``PY-COOKIEFLAG`` (CWE-1004): the session cookie made readable by scripts
  (``SESSION_COOKIE_HTTPONLY = False`` in Flask or Django settings).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from mamori.analysis._checks import CheckHit


def _text(node: ast.AST) -> str:
    try:
        text = " ".join(ast.unparse(node).split())
    except Exception:
        return type(node).__name__
    return text if len(text) <= 120 else text[:117] + "…"


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return inner + "." + node.attr if inner else node.attr
    return ""


def _const(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _jwt(call: ast.Call, func: str) -> str:
    """Why a ``jwt.decode`` call does not verify the token (``""``: it does)."""
    if not func.endswith("decode") or "jwt" not in func.lower():
        return ""
    if _const(_kw(call, "verify")) is False:
        return "verify=False"
    opts = _kw(call, "options")
    if isinstance(opts, ast.Dict):
        for k, v in zip(opts.keys, opts.values, strict=False):
            if _const(k) == "verify_signature" and _const(v) is False:
                return "verify_signature disabled"
    algs = _kw(call, "algorithms")
    if isinstance(algs, (ast.List, ast.Tuple)) and any(
        isinstance(_const(e), str) and str(_const(e)).lower() == "none" for e in algs.elts
    ):
        return "accepts the none algorithm"
    return ""


def _header_pair(call: ast.Call) -> tuple[str, object] | None:
    """``headers.add/set("Name", value)`` and ``headers["Name"] = value``: name and value."""
    if len(call.args) >= 2 and isinstance(_const(call.args[0]), str):
        return str(_const(call.args[0])).lower(), _const(call.args[1])
    return None


def run_web_checks(nodes: Sequence[ast.AST], relpath: str) -> Iterator[CheckHit]:
    """The web checks of one module, given all the nodes of its tree."""
    credentials: list[ast.AST] = []
    wildcard = False
    for node in nodes:
        if isinstance(node, ast.Call):
            func = _name(node.func)
            why = _jwt(node, func)
            if why:
                yield CheckHit("PY-JWT", node.lineno, node.col_offset, _text(node), why)
                continue
            last = func.rsplit(".", 1)[-1]
            for k in node.keywords:  # app.config.update(SESSION_COOKIE_HTTPONLY=False), dict(...)
                if k.arg == "SESSION_COOKIE_HTTPONLY" and _const(k.value) is False:
                    yield CheckHit(
                        "PY-COOKIEFLAG",
                        k.value.lineno,
                        k.value.col_offset,
                        "SESSION_COOKIE_HTTPONLY=False",
                        "session cookie readable by scripts",
                    )
            if last in ("add", "set", "setdefault", "__setitem__") and ".headers" in "." + func:
                pair = _header_pair(node)
                if pair is not None:
                    name, value = pair
                    if name == "access-control-allow-origin" and value == "*":
                        yield CheckHit(
                            "PY-CORS",
                            node.lineno,
                            node.col_offset,
                            _text(node),
                            "any origin may read responses",
                        )
                    elif name == "access-control-allow-credentials" and str(value).lower() == "true":
                        credentials.append(node)
            if last == "CORS":
                origins = _kw(node, "origins") or _kw(node, "resources")
                any_origin = origins is None or any(
                    isinstance(n, ast.Constant) and n.value == "*" for n in ast.walk(origins)
                )
                if any_origin:
                    wildcard = True
                    if _const(_kw(node, "supports_credentials")) is True:
                        yield CheckHit(
                            "PY-CORS",
                            node.lineno,
                            node.col_offset,
                            _text(node),
                            "credentials allowed for any origin",
                        )
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            key = ""
            if isinstance(target, ast.Name):
                key = target.id
            elif isinstance(target, ast.Subscript) and isinstance(_const(target.slice), str):
                key = str(_const(target.slice))
                base = _name(target.value)
                if base.endswith("headers") and key.lower() == "access-control-allow-origin":
                    if _const(node.value) == "*":
                        yield CheckHit(
                            "PY-CORS",
                            node.lineno,
                            node.col_offset,
                            _text(node),
                            "any origin may read responses",
                        )
                    continue
                if base.endswith("headers") and key.lower() == "access-control-allow-credentials":
                    if str(_const(node.value)).lower() == "true":
                        credentials.append(node)
                    continue
            if key == "SESSION_COOKIE_HTTPONLY" and _const(node.value) is False:
                yield CheckHit(
                    "PY-COOKIEFLAG",
                    node.lineno,
                    node.col_offset,
                    _text(node),
                    "session cookie readable by scripts",
                )
        elif isinstance(node, ast.Dict):
            for dk, dv in zip(node.keys, node.values, strict=False):
                if dk is not None and _const(dk) == "SESSION_COOKIE_HTTPONLY" and _const(dv) is False:
                    yield CheckHit(
                        "PY-COOKIEFLAG",
                        dk.lineno,
                        dk.col_offset,
                        _text(dk),
                        "session cookie readable by scripts",
                    )
    # credentials allowed where the whole application allows any origin (Flask-CORS): the
    # browser sends the user's cookies along and lets any site read the answer
    if credentials and wildcard:
        for node in credentials:
            yield CheckHit(
                "PY-CORS",
                getattr(node, "lineno", 0),
                getattr(node, "col_offset", 0),
                _text(node),
                "credentials allowed for cross-origin requests",
            )
