"""XPath: the value passed as an XPath variable instead of text in the expression."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    as_str,
    find_call,
    parameterise,
    positional_arg,
    replace_arg,
    set_keyword,
    str_literal,
    string_parts,
)

CWES = ("CWE-643",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return (
            (isinstance(c.func, cst.Attribute) and c.func.attr.value == "xpath")
            or q
            in ("lxml.etree.XPath", "elementpath.select", "elementpath.iter_select", "elementpath.Selector")
            or (
                isinstance(c.func, cst.Attribute)
                and c.func.attr.value in ("findall", "find", "iterfind", "findtext")
            )
        )

    q, call = find_call(ctx, line, is_sink, "XPath query")
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
        "findall",
        "find",
        "iterfind",
        "findtext",
    ):
        raise NoFix(
            "ElementTree paths have no variables and no way to escape a quote",
            ("evaluate the query with lxml or elementpath and pass the value as an XPath variable",),
        )
    index = 1 if q.startswith("elementpath.select") or q.startswith("elementpath.iter_select") else 0
    arg = positional_arg(call, index, ("_path", "path"))
    if arg is None:
        raise NoFix("the XPath expression is not passed where expected")
    query, assign = ctx.definition(arg.value, call, builders=True)
    parts = string_parts(query)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise NoFix("the XPath expression is not built from strings and values here")
    names: list[str] = []

    def placeholder(i: int) -> str:
        names.append(f"p{i}")
        return f"$p{i}"

    text, params = parameterise(parts, placeholder)
    literal = str_literal(text, '"' if "'" in text else "'")
    if assign is not None:
        ctx.replace(assign.value, literal)
        new_call = call
    else:
        new_call = replace_arg(call, arg, literal)
    params = [as_str(p) for p in params]
    if q.startswith("elementpath."):
        mapping = cst.Dict([cst.DictElement(str_literal(n), p) for n, p in zip(names, params, strict=True)])
        ctx.replace(call, set_keyword(new_call, "variables", mapping))
    elif q == "lxml.etree.XPath":
        statement = ctx.parents.get(call)
        if not isinstance(statement, cst.Assign) or not isinstance(statement.targets[0].target, cst.Name):
            raise NoFix("the compiled XPath is not kept in a variable, so its evaluation cannot be found")
        compiled = statement.targets[0].target.value
        uses = [
            c
            for c in ctx.calls
            if isinstance(c.func, cst.Name)
            and c.func.value == compiled
            and ctx.line(c) > ctx.line(call)
            and ctx.function_of(c) is ctx.function_of(call)
        ]
        if not uses:
            raise NoFix("the compiled XPath is never evaluated in this function")
        ctx.replace(call, new_call)
        for use in uses:
            new_use = use
            for n, p in zip(names, params, strict=True):
                new_use = set_keyword(new_use, n, p)
            ctx.replace(use, new_use)
    else:
        for n, p in zip(names, params, strict=True):
            new_call = set_keyword(new_call, n, p)
        ctx.replace(call, new_call)
    return f"XPath variables (${', $'.join(names)}) instead of text built from input", []
