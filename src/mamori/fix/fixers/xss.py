"""Cross-site scripting: values escaped with ``html.escape`` before they reach an HTML response."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, source_of, wrap_interpolations, wrap_with

CWES = ("CWE-79",)
"""The weaknesses this fixer answers."""


_XSS_SINKS = ("make_response", "Response", "HttpResponse", "HTMLResponse", "Markup", "mark_safe", "write")


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    escape = wrap_with(
        "html.escape", skip_words=("escape", "clean", "bleach", "sanitize", "render_template", "url_for")
    )
    candidates: list[cst.BaseExpression] = []
    anchor: cst.CSTNode | None = None
    for node in ctx.positions:
        if isinstance(node, cst.Return) and node.value is not None and ctx.line(node) == line:
            candidates.append(node.value)
            anchor = node
    for call in ctx.calls_at(line):
        name = source_of(call.func).rsplit(".", 1)[-1]
        if name in _XSS_SINKS and call.args:
            candidates.append(call.args[0].value)
            anchor = anchor or call
    for node in ctx.positions:
        if isinstance(node, cst.Assign | cst.AugAssign) and ctx.line(node) == line:
            candidates.append(node.value)
            anchor = anchor or node
    if anchor is None:
        raise NoFix(f"no response or markup at line {line}")
    fixed = 0
    seen: set[int] = set()
    for cand in candidates:
        if isinstance(cand, cst.Tuple) and cand.elements:
            cand = cand.elements[0].value
        if isinstance(cand, cst.Name):
            for assign in ctx.assignments(cand.value, ctx.function_of(anchor), ctx.line(anchor) + 1):
                if id(assign.value) in seen:
                    continue
                seen.add(id(assign.value))
                value = assign.value
                if isinstance(value, cst.Call) and not (
                    isinstance(value.func, cst.Attribute) and value.func.attr.value == "format"
                ):
                    continue  # a call builds the response (make_response, a renderer): not text
                wrapped = wrap_interpolations(value, escape)
                if wrapped is not None:
                    ctx.replace(value, wrapped)
                    fixed += 1
        else:
            wrapped = wrap_interpolations(cand, escape)
            if wrapped is not None:
                ctx.replace(cand, wrapped)
                fixed += 1
    if not fixed:
        raise NoFix("no unescaped value found in the response built here")
    ctx.imports.add("html")
    return "values escaped with html.escape before they reach the response", []
