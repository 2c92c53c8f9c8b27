"""Parameterised SQL: the query text keeps placeholders and the values are bound by the driver."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    param_node,
    parameterise,
    positional_arg,
    replace_arg,
    str_literal,
    string_parts,
)

CWES = ("CWE-89", "CWE-564")
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    _q, call = find_call(
        ctx,
        line,
        lambda q, c: (
            isinstance(c.func, cst.Attribute) and c.func.attr.value in ("execute", "executemany", "raw")
        ),
        "execute() call",
    )
    arg = positional_arg(call, 0, ("sql", "operation", "statement", "raw_query"))
    if arg is None:
        raise NoFix("the query is not passed as the first argument")
    if positional_arg(call, 1, ("params", "parameters", "args")) is not None:
        raise NoFix("the call already passes parameters; the query text is built some other way")
    query, assign = ctx.definition(arg.value, call, builders=True)
    parts = string_parts(query)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise NoFix("the query is not built from strings and values at this line")
    mark = "%s" if ctx.paramstyle == "format" else "?"
    params: list[cst.BaseExpression] = []
    text, whole = parameterise(parts, lambda _i: mark)
    literal: cst.BaseExpression | None = None
    if isinstance(query, cst.ConcatenatedString):
        literal = param_node(query, lambda _i: mark, params)
        pieces = string_parts(literal) if literal is not None else None
        if pieces is None or any(k != "lit" for k, _ in pieces) or "".join(str(v) for _, v in pieces) != text:
            literal = None  # a quote spans two pieces: fall back to one literal
    if literal is None:
        params = whole
        literal = str_literal(text, '"' if "'" in text else "'")
    values = cst.Tuple([cst.Element(p) for p in params]) if params else None
    if values is None:
        raise NoFix("nothing to bind")
    if assign is not None:
        ctx.replace(assign.value, literal)
        new_call = call.with_changes(args=[*call.args[:1], *call.args[1:]])
    else:
        new_call = replace_arg(call, arg, literal)
    first = new_call.args[0]
    rest = list(new_call.args[1:])
    new_args = [
        first.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        cst.Arg(values),
        *rest,
    ]
    if rest:
        new_args[1] = new_args[1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    ctx.replace(call, new_call.with_changes(args=new_args))
    return f"parameterised query ({len(params)} bound value{'s' if len(params) != 1 else ''})", []
