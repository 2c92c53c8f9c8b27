"""Cookies: ``set_cookie`` gets ``secure``, ``httponly`` and ``samesite``."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Consequence, Context, NoFix, set_keyword, source_of, str_literal

CWES = ("CWE-614", "CWE-1004", "CWE-1275")
"""The weaknesses this fixer answers."""


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "set_cookie":
            return _harden(ctx, call)
    raise NoFix(f"no set_cookie call at line {line}")


def _harden(ctx: Context, call: cst.Call) -> tuple[str, list[str]]:
    """Turn on the flags the call leaves off; a flag whose value comes from the app (a setting,
    a variable) stays the app's: change the setting, not the call."""
    new = call
    changed: list[str] = []
    configured: list[str] = []
    quote = "'" if "'" in source_of(call) else '"'
    for flag, safe in (("secure", cst.Name("True")), ("httponly", cst.Name("True"))):
        current = next((a for a in call.args if a.keyword is not None and a.keyword.value == flag), None)
        if current is None or source_of(current.value) in ("False", "None", "0"):
            new = set_keyword(new, flag, safe)
            changed.append(f"{flag}=True")
        elif source_of(current.value) not in ("True", "1"):
            configured.append(f"{flag}={source_of(current.value)}")
    current = next((a for a in call.args if a.keyword is not None and a.keyword.value == "samesite"), None)
    if current is None or source_of(current.value) in ("None", "'None'", '"None"'):
        new = set_keyword(new, "samesite", str_literal("Lax", quote))
        changed.append("samesite='Lax'")
    elif not isinstance(current.value, cst.SimpleString):
        configured.append(f"samesite={source_of(current.value)}")
    if not changed:
        raise NoFix(
            f"the cookie's flags come from the application ({', '.join(configured)}); mamori does not "
            "override configuration",
            ("set the flags in the application's settings (for instance SESSION_COOKIE_SECURE)",),
        )
    ctx.replace(call, new)
    notes: list[str] = []
    if "secure=True" in changed:
        notes.append(Consequence("the cookie is no longer sent over plain HTTP"))
    if configured:
        notes.append(f"left as the application sets them: {', '.join(configured)}")
    return f"cookie set with {', '.join(changed)}", notes
