"""Commands: an argument list without a shell, or the values quoted where a shell is needed."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    Part,
    as_str,
    drop_keyword,
    find_call,
    is_stringish,
    parse_expr,
    positional_arg,
    replace_arg,
    source_of,
    str_literal,
    string_parts,
    wrap_interpolations,
    wrap_with,
)

CWES = ("CWE-78", "CWE-77")
"""The weaknesses this fixer answers."""


_SUBPROCESS = (
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
)
_SHELL_META = re.compile(r"[|&;<>()$`*?~\\\n{}\[\]!#]")


def _argv(parts: list[Part]) -> list[cst.BaseExpression] | None:
    """An argument list for a command line whose values are whole words, or None if it needs a shell."""
    marks: dict[str, cst.BaseExpression] = {}
    text = ""
    for kind, value in parts:
        if kind == "lit":
            assert isinstance(value, str)
            if "\x00" in value:
                return None
            text += value
        else:
            assert not isinstance(value, str)
            key = f"\x00{len(marks)}\x00"
            marks[key] = value
            text += key
    literal_only = re.sub(r"\x00\d+\x00", "", text)
    if _SHELL_META.search(literal_only.replace("'", "").replace('"', "")):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    out: list[cst.BaseExpression] = []
    for word in words:
        if word in marks:
            value = marks[word]
            out.append(
                value if isinstance(value, cst.Name | cst.Attribute | cst.Subscript) else as_str(value)
            )
        elif "\x00" in word:
            return None
        else:
            out.append(str_literal(word))
    return out if out else None


def _list_expr(items: list[cst.BaseExpression]) -> cst.List:
    return cst.List([cst.Element(i) for i in items])


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return q in _SUBPROCESS or q in (
            "os.system",
            "os.popen",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
        )

    q, call = find_call(ctx, line, is_sink, "command call")
    arg = positional_arg(call, 0, ("args",))
    if arg is None:
        raise NoFix("the command is not passed as the first argument")
    shell = any(
        a.keyword is not None and a.keyword.value == "shell" and source_of(a.value) == "True"
        for a in call.args
    )
    value, assign = ctx.definition(arg.value, call)
    quote = wrap_with("shlex.quote", skip_words=("quote",))
    if q in _SUBPROCESS and not shell:
        # An argument list: the shell comes back through `sh -c TEXT`; quote the values in TEXT.
        if isinstance(arg.value, cst.Name):
            fixed = _quote_list_builders(ctx, arg.value.value, call, quote)
            if fixed:
                ctx.imports.add("shlex")
                return "values quoted with shlex.quote in the command run by the shell", []
        raise NoFix(
            "the program to run is chosen by the input",
            ("map the input to a fixed set of programs (an allow-list)",),
        )
    if (
        assign is None
        and isinstance(arg.value, cst.Name)
        and _quote_built_command(ctx, arg.value.value, call, quote)
    ):
        ctx.imports.add("shlex")
        return "values quoted with shlex.quote where the command line is built (it needs a shell)", []
    parts = string_parts(value)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise NoFix("the command line is not built from strings and values here")
    argv = _argv(parts)
    if argv is not None and q in (*_SUBPROCESS, "os.system"):
        new_list = _list_expr(argv)
        if q == "os.system":
            new_call = cst.Call(func=parse_expr("subprocess.call"), args=[cst.Arg(new_list)])
            ctx.imports.add("subprocess")
            note = ["os.system returned a wait status; subprocess.call returns the exit code"]
        else:
            new_call = drop_keyword(replace_arg(call, arg, new_list), "shell")
            note = []
        if assign is not None and isinstance(arg.value, cst.Name):
            ctx.replace(assign.value, new_list)
            new_call = (
                new_call.with_changes(
                    args=[
                        a.with_changes(value=arg.value) if i == 0 else a for i, a in enumerate(new_call.args)
                    ]
                )
                if q != "os.system"
                else cst.Call(func=parse_expr("subprocess.call"), args=[cst.Arg(arg.value)])
            )
        ctx.replace(call, new_call)
        return "argument list without a shell", note
    wrapped = wrap_interpolations(value, quote)
    if wrapped is None:
        raise NoFix("no interpolated value to quote")
    ctx.replace(value if assign is not None else arg.value, wrapped)
    ctx.imports.add("shlex")
    return "values quoted with shlex.quote (the command needs a shell)", []


def _quote_built_command(
    ctx: Context, name: str, at: cst.Call, quote: Callable[[cst.BaseExpression], cst.BaseExpression | None]
) -> bool:
    """Quote the values in a command line built piece by piece (``cmd = "…"``, ``cmd += f"…"``,
    in branches too). Every assignment before the call must be text built from literals and
    values, so that quoting each value covers everything that reaches the shell."""
    assigns = ctx.assignments(name, ctx.function_of(at), ctx.line(at))
    if not assigns or not any(isinstance(a, cst.AugAssign) for a in assigns):
        return False
    pieces: list[tuple[cst.BaseExpression, list[Part]]] = []
    for a in assigns:
        if isinstance(a, cst.AugAssign) and not isinstance(a.operator, cst.AddAssign):
            return False
        parts = string_parts(a.value)
        if parts is None:
            return False  # a value from elsewhere: the program itself may be chosen by the input
        pieces.append((a.value, parts))
    if not any(k == "expr" for _v, parts in pieces for k, _ in parts):
        return False
    for value, parts in pieces:
        if any(k == "expr" for k, _ in parts):
            wrapped = wrap_interpolations(value, quote)
            if wrapped is not None:
                ctx.replace(value, wrapped)
    return True


def _quote_list_builders(
    ctx: Context, name: str, at: cst.Call, quote: Callable[[cst.BaseExpression], cst.BaseExpression | None]
) -> bool:
    scope = ctx.function_of(at)
    fixed = False
    for call in ctx.calls:
        if ctx.line(call) >= ctx.line(at) or ctx.function_of(call) is not scope:
            continue
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in ("append", "insert", "extend")
            and isinstance(call.func.value, cst.Name)
            and call.func.value.value == name
            and call.args
        ):
            value = call.args[-1].value
            wrapped = (
                wrap_interpolations(value, quote)
                if is_stringish(value) or isinstance(value, cst.BinaryOperation | cst.Call)
                else None
            )
            if wrapped is not None:
                ctx.replace(value, wrapped)
                fixed = True
    for assign in ctx.assignments(name, scope, ctx.line(at)):
        if isinstance(assign.value, cst.List):
            for el in assign.value.elements:
                wrapped = wrap_interpolations(el.value, quote) if is_stringish(el.value) else None
                if wrapped is not None:
                    ctx.replace(el.value, wrapped)
                    fixed = True
    return fixed
