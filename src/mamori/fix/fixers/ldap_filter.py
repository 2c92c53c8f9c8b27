"""LDAP: the values in a search filter escaped with the library's own escaper."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    positional_arg,
    wrap_interpolations,
    wrap_with,
)

CWES = ("CWE-90",)
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return isinstance(c.func, cst.Attribute) and c.func.attr.value in (
            "search",
            "search_s",
            "search_st",
            "search_ext",
            "search_ext_s",
        )

    q, call = find_call(ctx, line, is_sink, "LDAP search")
    index = 1 if q.endswith(".search") else 2
    arg = positional_arg(call, index, ("search_filter", "filterstr"))
    if arg is None:
        raise NoFix("the filter is not passed where expected")
    value, _assign = ctx.definition(arg.value, call)
    python_ldap = "ldap3" not in ctx.source
    func = "ldap.filter.escape_filter_chars" if python_ldap else "ldap3.utils.conv.escape_filter_chars"
    wrapped = wrap_interpolations(value, wrap_with(func, skip_words=("escape",)))
    if wrapped is None:
        raise NoFix("the filter has no interpolated value to escape")
    ctx.replace(value, wrapped)
    ctx.imports.add(func.rsplit(".", 1)[0])
    return f"filter values escaped with {func}", []
