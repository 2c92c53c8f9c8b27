"""TLS: certificate and host name verification turned back on."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, parse_expr, set_keyword, source_of

CWES = ("CWE-295",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        for a in call.args:
            if (
                a.keyword is not None
                and a.keyword.value in ("verify", "check_hostname")
                and source_of(a.value) == "False"
            ):
                ctx.replace(call, set_keyword(call, a.keyword.value, cst.Name("True")))
                return f"{a.keyword.value}=True (certificate verification back on)", []
        if q == "ssl._create_unverified_context":
            ctx.replace(call, call.with_changes(func=parse_expr("ssl.create_default_context")))
            ctx.imports.add("ssl")
            return "ssl.create_default_context (verifying)", []
    for node in ctx.positions:
        if (
            isinstance(node, cst.Assign)
            and ctx.line(node) == line
            and source_of(node.value) in ("False", "ssl.CERT_NONE")
        ):
            target = source_of(node.targets[0].target)
            if target.endswith("check_hostname"):
                ctx.replace(node.value, cst.Name("True"))
                return "check_hostname = True", []
            if target.endswith("verify_mode"):
                ctx.replace(node.value, parse_expr("ssl.CERT_REQUIRED"))
                return "verify_mode = ssl.CERT_REQUIRED", []
    raise NoFix(f"no disabled verification at line {line}")
