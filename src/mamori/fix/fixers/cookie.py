"""Cookies: ``set_cookie`` gets ``secure``, ``httponly`` and ``samesite``."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, set_keyword, source_of, str_literal

CWES = ("CWE-614", "CWE-1004", "CWE-1275")
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "set_cookie":
            new = set_keyword(call, "secure", cst.Name("True"))
            new = set_keyword(new, "httponly", cst.Name("True"))
            current = next(
                (a for a in call.args if a.keyword is not None and a.keyword.value == "samesite"), None
            )
            if current is None or source_of(current.value) in ("None", "'None'", '"None"'):
                new = set_keyword(new, "samesite", str_literal("Lax", "'" if "'" in source_of(call) else '"'))
            ctx.replace(call, new)
            return "cookie set with secure=True, httponly=True and samesite", [
                "the cookie is no longer sent over plain HTTP"
            ]
    raise NoFix(f"no set_cookie call at line {line}")
