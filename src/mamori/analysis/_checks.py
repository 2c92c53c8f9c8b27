"""Checks that need no data flow: weak hashes and ciphers, weak randomness, insecure cookies,
hard-coded secrets (in :mod:`._secrets`), disabled TLS verification, debug mode,
``tempfile.mktemp`` and world-writable permissions. One walk over each module's tree, names resolved through its
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


@dataclass(frozen=True, slots=True)
class CheckHit:
    """One flow-less finding: rule id, line, column and the code it is about."""

    rule: str
    line: int
    column: int
    text: str
    note: str
    confidence: str = ""
    """``high``/``medium``/``low``, or ``""`` for the rule's default."""


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
    from mamori.analysis._secrets import hardcoded_secrets  # it builds CheckHits: no cycle at import

    aliases = _aliases(nodes)
    yield from _weak_random(nodes, aliases)
    yield from hardcoded_secrets(nodes, relpath)
    parents = _Parents(nodes)
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
                    if _of_email(node):
                        yield CheckHit(
                            "PY-WEAKHASH",
                            node.lineno,
                            node.col_offset,
                            _text(node),
                            f"{algo} hash of an email address (an identifier such as Gravatar's, not a secret)",
                            confidence="low",
                        )
                    elif _in_url(node, parents, nodes):
                        # Gravatar-style: the digest names a resource in a URL, an identifier
                        # anyone can compute, so the weak algorithm protects nothing.
                        yield CheckHit(
                            "PY-WEAKHASH",
                            node.lineno,
                            node.col_offset,
                            _text(node),
                            f"{algo} hash used in a URL (an identifier, likely not a security use)",
                            confidence="low",
                        )
                    else:
                        yield CheckHit(
                            "PY-WEAKHASH", node.lineno, node.col_offset, _text(node), f"{algo} hash"
                        )
            elif q in ("Crypto.Hash.MD5.new", "Crypto.Hash.SHA.new", "Cryptodome.Hash.MD5.new") or q in (
                "cryptography.hazmat.primitives.hashes.MD5",
                "cryptography.hazmat.primitives.hashes.SHA1",
            ):
                yield CheckHit("PY-WEAKHASH", node.lineno, node.col_offset, _text(node), "weak hash")
            elif _is_weak_random(q, last):
                pass  # judged by its use, see _weak_random
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
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name = (
                target.id
                if isinstance(target, ast.Name)
                else (target.attr if isinstance(target, ast.Attribute) else "")
            )
            value = _const(node.value)
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


# -- weak randomness where security needs it ------------------------------------------------
# The `random` module is fine for shuffles, sampling, jitter and simulations; it is a weakness
# only where its value must be unguessable. So a call is reported when its value is named as a
# secret (assigned to ``token``, passed as ``salt=``, stored under a ``"csrf"`` key, returned by
# ``make_password``), or flows, through at most two assignments or the return of a module
# function, into such a name, a session or cookie store, or a cryptographic API.

_SECRET_WORDS = frozenset(
    {
        "token", "tokens", "password", "passwords", "passwd", "pwd", "passphrase", "secret",
        "secrets", "nonce", "salt", "otp", "totp", "hotp", "csrf", "xsrf", "session",
        "sessionid", "sessid", "sid", "cookie", "cookies", "apikey", "iv", "pin", "remember",
        "rememberme", "credential", "credentials", "signature", "captcha", "verification",
        "activation",
    }
)  # fmt: skip
_KEY_QUALIFIERS = frozenset(
    {
        "api", "secret", "private", "signing", "sign", "encryption", "encrypt", "crypt",
        "crypto", "session", "auth", "access", "hmac", "aes", "master", "cipher", "jwt",
    }
)  # fmt: skip
# Unsplit names (``mysession``, ``authtoken``) still name a secret when they contain these.
_SECRET_PARTS = ("session", "cookie", "password", "passwd", "secret", "nonce", "csrf", "xsrf")
_SECRET_PART_EXCLUDE = ("tokeniz",)
_CRYPTO_PREFIXES = ("hmac.", "hashlib.pbkdf2_hmac", "hashlib.scrypt", "Crypto.", "Cryptodome.", "cryptography.", "jwt.", "nacl.")  # fmt: skip
_HUMPS = re.compile(r"([a-z0-9])([A-Z])")
_MAX_HOPS = 2


def _secret_word(name: str) -> str:
    """The word of ``name`` that names a secret (``remember_token`` -> ``token``), or ``""``."""
    if not name:
        return ""
    words = [w for w in re.split(r"[^a-z0-9]+", _HUMPS.sub(r"\1_\2", name).lower()) if w]
    for w in words:
        if w in _SECRET_WORDS:
            return w
    if ("key" in words or "keys" in words) and _KEY_QUALIFIERS.intersection(words):
        return name
    low = name.lower()
    if not any(x in low for x in _SECRET_PART_EXCLUDE):
        for part in _SECRET_PARTS:
            if part in low:
                return part
    return ""


def _target_names(t: ast.expr) -> list[str]:
    """The names a store target gives its value: ``x``, ``obj.attr``, ``store[key]``."""
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, ast.Attribute):
        return [t.attr]
    if isinstance(t, ast.Subscript):
        out = _target_names(t.value) if isinstance(t.value, (ast.Name, ast.Attribute)) else []
        key = t.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            out.append(key.value)
        elif isinstance(key, ast.Name):
            out.append(key.id)
        return out
    if isinstance(t, (ast.Tuple, ast.List)):
        return [n for e in t.elts for n in _target_names(e)]
    return []


class _RandomUses:
    """Follows the value of ``random`` calls of one module to the names it is used as."""

    def __init__(self, nodes: Sequence[ast.AST], aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.parent: dict[ast.AST, ast.AST] = {}
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for node in nodes:
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else "")
                if name:
                    self.calls.setdefault(name, []).append(node)

    def scope(self, node: ast.AST) -> ast.AST | None:
        p = self.parent.get(node)
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            p = self.parent.get(p)
        return p

    def secret_use(self, node: ast.expr, hops: int, seen: set[ast.AST]) -> str:
        """Why the value of ``node`` is a secret (the name it is used as), or ``""``."""
        if node in seen:
            return ""
        seen.add(node)
        child: ast.AST = node
        p = self.parent.get(child)
        while p is not None and not isinstance(p, ast.stmt):
            if isinstance(p, ast.Compare) or (isinstance(p, ast.IfExp) and child is p.test):
                return ""  # a decision on the value, not the value itself
            if isinstance(p, ast.keyword) and (why := _secret_word(p.arg or "")):
                return why
            if isinstance(p, ast.Dict) and child in p.values:
                k = p.keys[p.values.index(child)]
                if (
                    isinstance(k, ast.Constant)
                    and isinstance(k.value, str)
                    and (why := _secret_word(k.value))
                ):
                    return why
            if isinstance(p, ast.Call) and child is not p.func:
                q = _qual(p.func, self.aliases)
                if q.startswith(_CRYPTO_PREFIXES):
                    return q
                if why := _secret_word(q.rsplit(".", 1)[-1]):
                    return why
            if isinstance(p, ast.Lambda):
                return ""
            child, p = p, self.parent.get(p)
        if p is None:
            return ""
        names: list[str] = []
        if isinstance(p, ast.Assign):
            names = [n for t in p.targets for n in _target_names(t)]
        elif isinstance(p, (ast.AugAssign, ast.AnnAssign)):
            names = _target_names(p.target)
        elif isinstance(p, ast.Return) or (isinstance(child, (ast.Yield, ast.YieldFrom))):
            fn = self.scope(p)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if why := _secret_word(fn.name):
                    return why
                if hops:  # the function's callers in this module
                    for call in self.calls.get(fn.name, ()):
                        if why := self.secret_use(call, hops - 1, seen):
                            return why
            return ""
        for n in names:
            if why := _secret_word(n):
                return why
        if hops and isinstance(p, (ast.Assign, ast.AnnAssign)):
            targets = p.targets if isinstance(p, ast.Assign) else [p.target]
            scope = self.scope(p)
            for t in targets:
                if not isinstance(t, ast.Name) or t.id == "_":  # `_` is reused for anything
                    continue
                for use in self._reads(t.id, scope, p):
                    if why := self.secret_use(use, hops - 1, seen):
                        return why
        return ""

    def _reads(self, name: str, scope: ast.AST | None, after: ast.stmt) -> list[ast.Name]:
        out: list[ast.Name] = []
        body: list[ast.AST] = (
            list(scope.body) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        )
        if scope is None:  # module level: the statements after the assignment
            body = [
                n for n, pr in self.parent.items() if isinstance(pr, ast.Module) and isinstance(n, ast.stmt)
            ]
        for top in body:
            for n in ast.walk(top):
                if (
                    isinstance(n, ast.Name)
                    and n.id == name
                    and isinstance(n.ctx, ast.Load)
                    and n.lineno >= after.lineno
                ):
                    out.append(n)
        return out


def _is_weak_random(q: str, last: str) -> bool:
    return (
        q.startswith("random.")
        and (last in _RANDOM_FUNCS or q == "random.Random")
        and "SystemRandom" not in q
    )


class _Parents:
    """Each node's parent, built on first use (most modules hash nothing)."""

    def __init__(self, nodes: Sequence[ast.AST]) -> None:
        self._nodes = nodes
        self._map: dict[ast.AST, ast.AST] | None = None

    def get(self, node: ast.AST) -> ast.AST | None:
        if self._map is None:
            self._map = {c: n for n in self._nodes for c in ast.iter_child_nodes(n)}
        return self._map.get(node)


_URL_TEXT = re.compile(r"^(?:https?:)?//|^/avatar/|://")


def _of_email(call: ast.Call) -> bool:
    """Whether the hashed data is an email address (``md5(user.email.lower().encode())``):
    such a digest names an account to services that expect it (Gravatar, Libravatar)."""
    for arg in call.args[-1:]:
        for n in ast.walk(arg):
            name = n.attr if isinstance(n, ast.Attribute) else (n.id if isinstance(n, ast.Name) else "")
            if name.lower() in ("email", "email_address", "mail"):
                return True
    return False


def _url_literal(expr: ast.AST) -> bool:
    """Whether the string expression ``expr`` is built around a URL literal."""
    for n in ast.walk(expr):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and _URL_TEXT.search(n.value):
            return True
    return False


def _in_url(call: ast.Call, parents: _Parents, nodes: Sequence[ast.AST]) -> bool:
    """Whether the digest of ``call`` only goes into a URL string (f-string, ``%``, ``+``,
    ``.format``), directly or through one local name used nowhere else."""
    child: ast.AST = call
    p = parents.get(child)
    while p is not None and not isinstance(p, ast.stmt):
        if isinstance(p, (ast.JoinedStr, ast.BinOp)) and _url_literal(p):
            return True
        if (
            isinstance(p, ast.Call)
            and isinstance(p.func, ast.Attribute)
            and p.func.attr == "format"
            and child is not p.func
            and _url_literal(p.func.value)
        ):
            return True
        child, p = p, parents.get(p)
    if not (isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name)):
        return False
    name = p.targets[0].id
    uses = [n for n in nodes if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    if not uses:
        return False
    for use in uses:
        u: ast.AST = use
        q = parents.get(u)
        found = False
        while q is not None and not isinstance(q, ast.stmt):
            if (isinstance(q, (ast.JoinedStr, ast.BinOp)) and _url_literal(q)) or (
                isinstance(q, ast.Call)
                and isinstance(q.func, ast.Attribute)
                and q.func.attr == "format"
                and u is not q.func
                and _url_literal(q.func.value)
            ):
                found = True
                break
            u, q = q, parents.get(q)
        if not found:
            return False
    return True


def _weak_random(nodes: Sequence[ast.AST], aliases: dict[str, str]) -> Iterator[CheckHit]:
    calls: list[tuple[ast.Call, str]] = []
    for node in nodes:
        if isinstance(node, ast.Call):
            q = _qual(node.func, aliases)
            if q and _is_weak_random(q, q.rsplit(".", 1)[-1]):
                calls.append((node, q))
    if not calls:
        return
    uses = _RandomUses(nodes, aliases)
    for call, q in calls:
        why = uses.secret_use(call, _MAX_HOPS, set())
        if why:
            yield CheckHit("PY-WEAKRAND", call.lineno, call.col_offset, _text(call), f"{q} used as {why}")
