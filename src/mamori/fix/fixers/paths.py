"""Path traversal: the user-chosen part of a path kept inside the intended folder."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import (
    Context,
    NoFix,
    find_call,
    is_stringish,
    make_call,
    positional_arg,
    source_of,
)

CWES = ("CWE-22", "CWE-23")
"""The weaknesses this fixer answers."""


_PATH_CALLS = (
    "open",
    "builtins.open",
    "io.open",
    "codecs.open",
    "os.open",
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.mkdir",
    "os.makedirs",
    "os.listdir",
    "os.path.exists",
    "os.path.isfile",
    "os.path.getsize",
    "os.chmod",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.move",
    "shutil.rmtree",
    "flask.send_file",
    "tarfile.open",
    "zipfile.ZipFile",
    "pathlib.Path",
    "pathlib.PurePath",
)
_PATH_METHODS = (
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "unlink",
    "rmdir",
    "exists",
    "is_file",
    "touch",
    "iterdir",
    "mkdir",
    "stat",
)


def _last_component(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The last non-literal piece of a path expression (the part a user chooses)."""
    if isinstance(node, cst.FormattedString):
        exprs = [p.expression for p in node.parts if isinstance(p, cst.FormattedStringExpression)]
        return exprs[-1] if exprs else None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide | cst.Add):
        return _last_component(node.right) or (None if is_stringish(node.right) else node.right)
    if isinstance(node, cst.Call):
        q = source_of(node.func)
        if q.endswith("join") or q.endswith("Path") or q.endswith("joinpath"):
            values = [a.value for a in node.args if not isinstance(a.value, cst.SimpleString)]
            return values[-1] if values else None
        return None
    if isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
        return node
    return None


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return q in _PATH_CALLS or (isinstance(c.func, cst.Attribute) and c.func.attr.value in _PATH_METHODS)

    q, call = find_call(ctx, line, is_sink, "file access")
    if q not in _PATH_CALLS and isinstance(call.func, cst.Attribute):
        subject: cst.BaseExpression = call.func.value
    else:
        arg = positional_arg(call, 0, ("file", "filename", "path", "name"))
        if arg is None:
            raise NoFix("the path is not passed as the first argument")
        subject = arg.value
    value, _assign = ctx.definition(subject, call)
    if (
        isinstance(value, cst.Call)
        and ctx.qualname(value.func) in ("pathlib.Path", "pathlib.PurePath")
        and isinstance(subject, cst.Name)
        and value is not subject
    ):
        pass
    component = _last_component(value)
    if component is None or (isinstance(component, cst.Call) and "basename" in source_of(component.func)):
        raise NoFix("no user-chosen part found in the path")
    ctx.replace(component, make_call("os.path.basename", component))
    ctx.imports.add("os")
    return "file name reduced with os.path.basename, so it stays inside the intended folder", [
        "names with folders in them are reduced to their last part"
    ]
