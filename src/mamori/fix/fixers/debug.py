"""Debug mode: ``debug=True`` in a call becomes ``debug=False``."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, set_keyword, source_of

CWES = ("CWE-489",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        for a in call.args:
            if a.keyword is not None and a.keyword.value == "debug" and source_of(a.value) == "True":
                ctx.replace(call, set_keyword(call, "debug", cst.Name("False")))
                return "debug=False", []
    raise NoFix(f"no debug=True at line {line}")
