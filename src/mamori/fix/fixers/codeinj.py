"""Code injection: ``eval`` of literals becomes ``ast.literal_eval``; ``exec``/``compile`` are refused."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, parse_expr

CWES = ("CWE-94", "CWE-95")
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q in ("eval", "builtins.eval") and call.args:
            ctx.replace(
                call,
                call.with_changes(
                    func=parse_expr("ast.literal_eval"),
                    args=[call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
                ),
            )
            ctx.imports.add("ast")
            return "ast.literal_eval (literals only, no code)", [
                "expressions other than Python literals are now refused with ValueError"
            ]
        if q in ("exec", "builtins.exec", "compile", "builtins.compile"):
            raise NoFix(
                f"{q} runs statements; there is no safe subset of Python to fall back to",
                ("map the input to an allow-list of operations instead of running it as code",),
            )
    raise NoFix(f"no eval/exec at line {line}")
