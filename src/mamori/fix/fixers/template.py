"""Template injection: user data passed as template context instead of template text."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    positional_arg,
    replace_arg,
    set_keyword,
    source_of,
    str_literal,
    string_parts,
)

CWES = ("CWE-1336",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    _q, call = find_call(
        ctx,
        line,
        lambda q, c: q.rsplit(".", 1)[-1] in ("render_template_string", "from_string", "Template"),
        "template",
    )
    arg = positional_arg(call, 0, ("source",))
    if arg is None:
        raise NoFix("the template is not passed as the first argument")
    value, assign = ctx.definition(arg.value, call, builders=True)
    parts = string_parts(value)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise NoFix(
            "the whole template comes from the input",
            ("keep templates in files and pass user data as context variables",),
        )
    text = ""
    context: list[tuple[str, cst.BaseExpression]] = []
    for kind, piece in parts:
        if kind == "lit":
            assert isinstance(piece, str)
            text += piece
        else:
            assert not isinstance(piece, str)
            name = f"v{len(context)}"
            context.append((name, piece))
            text += "{{ " + name + " }}"
    literal = str_literal(text)
    if assign is not None:
        ctx.replace(assign.value, literal)
        new = call
    else:
        new = replace_arg(call, arg, literal)
    if source_of(call.func).endswith("render_template_string"):
        for name, piece in context:
            new = set_keyword(new, name, piece)
        ctx.replace(call, new)
    else:
        raise NoFix("the template object is rendered elsewhere; pass the values to render() by hand")
    return "user data passed as template context instead of template text", []
