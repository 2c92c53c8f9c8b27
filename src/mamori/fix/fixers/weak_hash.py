"""Weak hashes: a cache validator gets ``usedforsecurity=False``; other uses a stronger digest."""

from __future__ import annotations

import re

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    literal_value,
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
            if isinstance(call.func, cst.Attribute):
                ctx.replace(call, call.with_changes(func=call.func.with_changes(attr=cst.Name("sha256"))))
            else:
                ctx.replace(call, call.with_changes(func=parse_expr("hashlib.sha256")))
                ctx.imports.add("hashlib")
            return "SHA-256 instead of " + q.split(".")[-1].upper(), [
                "digests change: stored values made with the old hash no longer match"
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
                return f"SHA-256 instead of {algo.upper()}", [
                    "digests change: stored values made with the old hash no longer match"
                ]
    raise NoFix(f"no weak hash call at line {line}")
