"""Checks that need no data flow: weak hashes and ciphers, weak randomness, insecure cookies,
hard-coded secrets, disabled TLS verification, debug mode, ``tempfile.mktemp`` and
world-writable permissions. One walk over each module's tree, names resolved through its
imports (``import hashlib as h`` still counts).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_WEAK_HASHES = frozenset({"md5", "sha1", "md4", "md2", "sha", "ripemd160"})
_RANDOM_FUNCS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "shuffle",
        "sample",
        "uniform",
        "getrandbits",
        "randbytes",
        "triangular",
        "gauss",
        "normalvariate",
        "betavariate",
        "expovariate",
        "lognormvariate",
        "vonmisesvariate",
        "paretovariate",
        "weibullvariate",
    }
)
_WEAK_CIPHERS = frozenset(
    {
        "Crypto.Cipher.DES.new",
        "Crypto.Cipher.DES3.new",
        "Crypto.Cipher.ARC4.new",
        "Crypto.Cipher.ARC2.new",
        "Crypto.Cipher.Blowfish.new",
        "Cryptodome.Cipher.DES.new",
        "Cryptodome.Cipher.ARC4.new",
        "Cryptodome.Cipher.Blowfish.new",
        "cryptography.hazmat.primitives.ciphers.algorithms.TripleDES",
        "cryptography.hazmat.primitives.ciphers.algorithms.ARC4",
        "cryptography.hazmat.primitives.ciphers.algorithms.Blowfish",
        "cryptography.hazmat.primitives.ciphers.algorithms.IDEA",
        "cryptography.hazmat.primitives.ciphers.modes.ECB",
    }
)
_SECRET_NAME = re.compile(
    r"(?i)(^|_)(pass(word|wd)?|pwd|secret(_key)?|api_?key|access_?key|auth_?token|private_?key)$"
)
_NOT_SECRET = re.compile(r"(?i)^(|\s+|[<{$%].*|.*(example|changeme|dummy|test|placeholder|xxx).*)$")


@dataclass(frozen=True, slots=True)
class CheckHit:
    """One flow-less finding: rule id, line, column and the code it is about."""

    rule: str
    line: int
    column: int
    text: str
    note: str


def _aliases(nodes: Sequence[ast.AST]) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    out[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = node.module + "." + a.name
    return out


def _qual(node: ast.expr, aliases: dict[str, str]) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        inner = _qual(node.func, aliases)
        if not inner:
            return ""
        parts.append(inner + "()")
        return ".".join(reversed(parts))
    if not isinstance(node, ast.Name):
        return ""
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _const(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _text(node: ast.AST) -> str:
    try:
        t = " ".join(ast.unparse(node).split())
    except Exception:
        return type(node).__name__
    return t if len(t) <= 120 else t[:117] + "…"


def run_checks(nodes: Sequence[ast.AST], relpath: str) -> Iterator[CheckHit]:
    """Every flow-less finding of one module, given all the nodes of its tree."""
    aliases = _aliases(nodes)
    is_settings = relpath.rsplit("/", 1)[-1] in ("settings.py", "config.py") or "/settings/" in relpath
    for node in nodes:
        if isinstance(node, ast.Call):
            q = _qual(node.func, aliases)
            if not q:
                continue
            last = q.rsplit(".", 1)[-1]
            # weak hashes
            if q.startswith("hashlib."):
                algo = ""
                if last == "new" and node.args:
                    c = _const(node.args[0])
                    algo = c.lower().replace("-", "") if isinstance(c, str) else ""
                elif q.count(".") == 1:
                    algo = last.lower()
                if algo in _WEAK_HASHES and _const(_kw(node, "usedforsecurity")) is not False:
                    yield CheckHit("PY-WEAKHASH", node.lineno, node.col_offset, _text(node), f"{algo} hash")
            elif q in ("Crypto.Hash.MD5.new", "Crypto.Hash.SHA.new", "Cryptodome.Hash.MD5.new") or q in (
                "cryptography.hazmat.primitives.hashes.MD5",
                "cryptography.hazmat.primitives.hashes.SHA1",
            ):
                yield CheckHit("PY-WEAKHASH", node.lineno, node.col_offset, _text(node), "weak hash")
            # weak randomness: the module-level generator or a seeded Random()
            elif (
                q.startswith("random.")
                and (last in _RANDOM_FUNCS or q == "random.Random")
                and ("SystemRandom" not in q)
            ):
                yield CheckHit("PY-WEAKRAND", node.lineno, node.col_offset, _text(node), "random module")
            elif last == "set_cookie" or q.endswith("set_signed_cookie"):
                secure = _const(_kw(node, "secure"))
                httponly = _const(_kw(node, "httponly"))
                if secure is not True or httponly is not True:
                    missing = [n for n, v in (("secure", secure), ("httponly", httponly)) if v is not True]
                    yield CheckHit(
                        "PY-COOKIE",
                        node.lineno,
                        node.col_offset,
                        _text(node),
                        "cookie without " + ", ".join(missing),
                    )
            elif q in _WEAK_CIPHERS or (
                last == "new"
                and any(isinstance(a, ast.Attribute) and a.attr == "MODE_ECB" for a in node.args)
            ):
                yield CheckHit("PY-CIPHER", node.lineno, node.col_offset, _text(node), "weak cipher")
            elif q in ("tempfile.mktemp", "os.tempnam", "os.tmpnam"):
                yield CheckHit("PY-TEMPFILE", node.lineno, node.col_offset, _text(node), "mktemp")
            elif q in ("os.chmod", "os.fchmod", "os.lchmod") or (last == "chmod" and len(node.args) == 1):
                mode = node.args[-1] if node.args else _kw(node, "mode")
                m = _const(mode)
                if isinstance(m, int) and m & 0o002:
                    yield CheckHit("PY-PERMS", node.lineno, node.col_offset, _text(node), oct(m))
            elif last == "run" and _const(_kw(node, "debug")) is True:
                yield CheckHit("PY-DEBUG", node.lineno, node.col_offset, _text(node), "debug=True")
            elif q in ("ssl._create_unverified_context",):
                yield CheckHit("PY-TLS", node.lineno, node.col_offset, _text(node), "unverified context")
            if _const(_kw(node, "verify")) is False and (
                q.startswith(("requests.", "httpx."))
                or last in ("get", "post", "put", "delete", "request", "Client", "AsyncClient", "Session")
            ):
                yield CheckHit("PY-TLS", node.lineno, node.col_offset, _text(node), "verify=False")
            for k in node.keywords:
                if k.arg and _SECRET_NAME.search(k.arg) and isinstance(_const(k.value), str):
                    val = str(_const(k.value))
                    if not _NOT_SECRET.match(val) and len(val) >= 4:
                        yield CheckHit("PY-SECRET", node.lineno, node.col_offset, _text(k), k.arg)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name = (
                target.id
                if isinstance(target, ast.Name)
                else (target.attr if isinstance(target, ast.Attribute) else "")
            )
            value = _const(node.value)
            if (
                name
                and isinstance(value, str)
                and _SECRET_NAME.search(name)
                and not _NOT_SECRET.match(value)
                and len(value) >= 4
            ):
                yield CheckHit("PY-SECRET", node.lineno, node.col_offset, _text(target), name)
            if name == "DEBUG" and value is True and is_settings:
                yield CheckHit("PY-DEBUG", node.lineno, node.col_offset, "DEBUG = True", "DEBUG = True")
            if name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") and value is False:
                yield CheckHit("PY-COOKIE", node.lineno, node.col_offset, _text(node), name)
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "verify_mode"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "CERT_NONE"
            ):
                yield CheckHit("PY-TLS", node.lineno, node.col_offset, _text(node), "CERT_NONE")
