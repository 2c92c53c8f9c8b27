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
            other = _other_use(ctx, node)
            if other:
                raise NoFix(
                    f"the value assigned at line {line} is also used {other}; escaping it there would "
                    "change the data itself (a lookup key, a stored value), so escape it where the HTML "
                    "response is built",
                    ("escape the value in the template or where the HTML string is formed",),
                )
            candidates.append(node.value)
            anchor = anchor or node
    if anchor is None:
        raise NoFix(f"no response or markup at line {line}")
    for cand in candidates:
        if _is_json(ctx, cand):
            raise NoFix(
                "the response is JSON: its encoder already quotes the value, and HTML escapes inside "
                "JSON corrupt the data",
                ("make sure the response is served as application/json, not text/html",),
            )
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


_JSON_CALLS = ("jsonify", "json.dumps", "JSONResponse", "JsonResponse", "dumps")


def _is_json(ctx: Context, node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Dict | cst.List):
        return True
    if isinstance(node, cst.Call):
        name = ctx.qualname(node.func)
        return name.rsplit(".", 1)[-1] in _JSON_CALLS or name.endswith("json.dumps")
    return False


def _other_use(ctx: Context, assign: cst.Assign | cst.AugAssign) -> str:
    """How a variable assigned at a sink line is used for something other than building the
    response (``as an argument of get_user() at line 12``), or ``""``."""
    target = assign.targets[0].target if isinstance(assign, cst.Assign) and len(assign.targets) == 1 else None
    if isinstance(assign, cst.AugAssign):
        target = assign.target
    if not isinstance(target, cst.Name):
        return ""
    scope = ctx.function_of(assign)
    after = ctx.line(assign)
    for call in ctx.calls:
        if ctx.line(call) <= after or ctx.function_of(call) is not scope:
            continue
        name = source_of(call.func).rsplit(".", 1)[-1]
        if name in _XSS_SINKS or name in ("format", "join", "str", "escape"):
            continue
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and arg.value.value == target.value:
                return f"as an argument of {source_of(call.func)}() at line {ctx.line(call)}"
    return ""
