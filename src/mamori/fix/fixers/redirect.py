"""Open redirects: the target contained to a path of this site."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    parse_expr,
    positional_arg,
    replace_arg,
    source_of,
)

CWES = ("CWE-601",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        last = q.rsplit(".", 1)[-1]
        return last in (
            "redirect",
            "HttpResponseRedirect",
            "HttpResponsePermanentRedirect",
            "RedirectResponse",
            "HTTPFound",
        )

    _q, call = find_call(ctx, line, is_sink, "redirect")
    arg = positional_arg(call, 0, ("location", "to", "url", "redirect_to"))
    if arg is None:
        raise NoFix("the redirect target is not passed as the first argument")
    if isinstance(arg.value, cst.SimpleString):
        raise NoFix("the redirect target is a constant")
    value = source_of(arg.value)
    local = parse_expr(f'"/" + urllib.parse.quote(urllib.parse.urlsplit(str({value})).path.lstrip("/\\\\"))')
    ctx.replace(call, replace_arg(call, arg, local))
    ctx.imports.add("urllib.parse")
    return "redirect contained to a path of this site (scheme and host dropped, path quoted)", [
        "the query string of the target is dropped; list allowed hosts if external redirects are intended"
    ]
