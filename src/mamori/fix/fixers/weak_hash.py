"""Weak hashes: a cache validator gets ``usedforsecurity=False``; other uses a stronger digest."""

from __future__ import annotations

import re

import libcst as cst

from mamori.fix.fixers._shared import (
    Consequence,
    Context,
    NoFix,
    literal_value,
    make_call,
    parse_expr,
    replace_arg,
    set_keyword,
    source_of,
    str_literal,
)

CWES = ("CWE-328", "CWE-327", "CWE-916")
"""The weaknesses this fixer answers."""


_WEAK = ("md5", "sha1", "md4", "md2", "sha")
_NOT_SECURITY = re.compile(r"etag|cache|checksum|fingerprint|dedup|cachekey|content_id", re.IGNORECASE)


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        func_node = ctx.function_of(call)
        context_name = func_node.name.value if isinstance(func_node, cst.FunctionDef) else ""
        statement = ctx.statement_of(call)
        context_name += " " + (source_of(statement) if statement is not None else "")
        not_security = bool(_NOT_SECURITY.search(context_name)) and "password" not in context_name.lower()
        if q in (f"hashlib.{w}" for w in _WEAK):
            if not_security:
                ctx.replace(call, set_keyword(call, "usedforsecurity", cst.Name("False")))
                return "usedforsecurity=False (a cache validator, not a security control)", []
            if _is_password(ctx, call):
                return _migrate_password_hash(ctx, call, q.split(".")[-1])
            if isinstance(call.func, cst.Attribute):
                ctx.replace(call, call.with_changes(func=call.func.with_changes(attr=cst.Name("sha256"))))
            else:
                ctx.replace(call, call.with_changes(func=parse_expr("hashlib.sha256")))
                ctx.imports.add("hashlib")
            return "SHA-256 instead of " + q.split(".")[-1].upper(), [
                Consequence("digests change: stored values made with the old hash no longer match")
            ]
        if q == "hashlib.new" and call.args and isinstance(call.args[0].value, cst.SimpleString):
            algo = (literal_value(call.args[0].value) or "").lower().replace("-", "")
            if algo in _WEAK:
                if not_security:
                    ctx.replace(call, set_keyword(call, "usedforsecurity", cst.Name("False")))
                    return "usedforsecurity=False (a cache validator, not a security control)", []
                ctx.replace(
                    call, replace_arg(call, call.args[0], str_literal("sha256", call.args[0].value.quote))
                )
                if _is_password(ctx, call):
                    raise NoFix(_PASSWORD_WHY, _PASSWORD_OPTIONS)
                return f"SHA-256 instead of {algo.upper()}", [
                    Consequence("digests change: stored values made with the old hash no longer match")
                ]
    raise NoFix(f"no weak hash call at line {line}")


_PASSWORD_WHY = (
    "a password hash is a stored format: swapping the digest locks every existing account out, and "
    "a fast digest (SHA-256) is no password hash either; this code does not have the shape mamori "
    "can migrate (a hash function returning one digest, and a check that compares against it)"
)
_PASSWORD_OPTIONS = (
    "hash new passwords with hashlib.scrypt (or argon2/bcrypt) and a random salt per password, "
    "keep verifying the old digest and re-hash on the next successful login "
    "(OWASP Password Storage Cheat Sheet: "
    "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html)",
)


def _is_password(ctx: Context, call: cst.Call) -> bool:
    func = ctx.function_of(call)
    if not isinstance(func, cst.FunctionDef):
        return False
    return "password" in func.name.value.lower() or "passw" in source_of(func.params).lower()


_HELPERS = """\
def _password_hash_scrypt(secret, salt=None):
    \"\"\"scrypt (RFC 7914) with a random salt, as ``scrypt$N$r$p$SALT$HASH`` (written by mamori fix).\"\"\"
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(secret, salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${{salt.hex()}}${{digest.hex()}}"


def _password_hash_matches(secret, stored):
    \"\"\"True when ``secret`` matches ``stored``: a scrypt hash, or one in the old {algo} format
    (still verified so existing accounts keep logging in).\"\"\"
    if stored.startswith("scrypt$"):
        _, n, r, p, salt, digest = stored.split("$")
        again = hashlib.scrypt(
            secret, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=2**26, dklen=len(digest) // 2
        )
        return hmac.compare_digest(again.hex(), digest)
    legacy = hashlib.{algo}(secret, usedforsecurity=False).hexdigest()  # the old format, only to migrate
    return hmac.compare_digest(legacy, stored)

"""


def _migrate_password_hash(ctx: Context, call: cst.Call, algo: str) -> tuple[str, list[str]]:
    """Migrate ``def hash_password(p): return hashlib.md5(X).hexdigest()`` and the check that
    compares against it: new hashes are salted scrypt, old ones still verify."""
    func = ctx.function_of(call)
    assert isinstance(func, cst.FunctionDef)
    body = (
        [s for s in func.body.body if not _is_docstring(s)]
        if isinstance(func.body, cst.IndentedBlock)
        else []
    )
    ret = body[0].body[0] if len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) else None
    digest = ret.value if isinstance(ret, cst.Return) else None
    if not (
        isinstance(digest, cst.Call)
        and isinstance(digest.func, cst.Attribute)
        and digest.func.attr.value == "hexdigest"
        and digest.func.value is call
        and len(call.args) == 1
        and call.args[0].keyword is None
    ):
        raise NoFix(_PASSWORD_WHY, _PASSWORD_OPTIONS)
    name = func.name.value
    params = [p.name.value for p in func.params.params]
    checks: list[tuple[cst.CSTNode, cst.Call, cst.BaseExpression]] = []
    for other in ctx.calls:
        if not (
            isinstance(other.func, cst.Name) and other.func.value == name and len(other.args) == len(params)
        ):
            continue
        compare = ctx.parents.get(other)  # an Arg of a Call, or the Comparison itself
        parent = ctx.parents.get(compare) if compare is not None else None
        if isinstance(parent, cst.Call) and ctx.qualname(parent.func) in (
            "hmac.compare_digest",
            "secrets.compare_digest",
        ):
            others = [a.value for a in parent.args if a.value is not other]
            if len(others) == 1:
                checks.append((parent, other, others[0]))
        elif isinstance(compare, cst.Comparison) and len(compare.comparisons) == 1:
            op = compare.comparisons[0].operator
            if isinstance(op, cst.Equal):
                stored_side = compare.comparisons[0].comparator if compare.left is other else compare.left
                checks.append((compare, other, stored_side))
    if not checks:
        raise NoFix(_PASSWORD_WHY, _PASSWORD_OPTIONS)
    secret_fn = f"_{name}_secret"
    secret_arg = call.args[0].value
    ctx.replace(call.args[0].value, secret_arg)
    ctx.replace(
        digest, make_call("_password_hash_scrypt", make_call(secret_fn, *[cst.Name(p) for p in params]))
    )
    for node, use, stored in checks:
        ctx.replace(
            node,
            make_call("_password_hash_matches", make_call(secret_fn, *[a.value for a in use.args]), stored),
        )
    config = ctx.module.config_for_parsing
    helpers = cst.parse_module(
        f"def {secret_fn}({', '.join(params)}):\n"
        f'    """The bytes {name} hashes."""\n'
        f"    return {source_of(secret_arg)}\n\n\n" + _HELPERS.format(algo=algo) + "\n\n",
        config=config,
    )
    ctx.before[id(func)] = [*ctx.before.get(id(func), []), *helpers.body]
    ctx.imports.update(("hashlib", "hmac", "secrets"))
    return (
        f"{name} hashes with salted scrypt; old {algo.upper()} hashes still verify (migration, not a swap)",
        [
            "old hashes keep working; to retire them, store a new "
            f"{name}(password) after a successful login when the stored hash does not start with scrypt$",
        ],
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
