"""Open redirects: the target contained to a path of this site."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    make_call,
    positional_arg,
    replace_arg,
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
    ctx.replace(call, replace_arg(call, arg, make_call("_local_redirect_target", arg.value)))
    ctx.add_helper("_local_redirect_target", _HELPER, call)
    ctx.imports.add("urllib.parse")
    return (
        "redirect contained to a path of this site (scheme and host dropped; path, query and fragment kept)",
        ["list allowed hosts if redirects to other sites are intended"],
    )


_HELPER = '''\
def _local_redirect_target(target):
    """``target`` as a path of this site: scheme and host dropped, path, query and fragment kept
    (written by mamori fix against open redirects)."""
    parts = urllib.parse.urlsplit(str(target))
    path = "/" + urllib.parse.quote(parts.path.lstrip("/\\\\"), safe="/%:@!$&'()*+,;=-._~")
    return urllib.parse.urlunsplit(("", "", path, parts.query, parts.fragment))
'''
