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
    str_literal,
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
    if isinstance(value, cst.Call) and source_of(value.func).endswith("_confined_path"):
        raise NoFix("the path is confined already")
    base = _base_of(value)
    if base is None:
        raise NoFix(
            "the whole path comes from the input, so the folder it must stay in is not in the code",
            (
                "decide which folder the files may come from, resolve the path and check it is inside that folder",
            ),
        )
    ctx.replace(value, make_call("_confined_path", base, value))
    ctx.add_helper("_confined_path", _HELPER, call)
    ctx.imports.add("os")
    return "path resolved and refused when it leaves its folder (sub-folders keep working)", [
        "a path that leaves the folder (../, an absolute path, a symlink out) now raises ValueError"
    ]


def _base_of(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The folder part of a path expression (everything before the user-chosen last part)."""
    if isinstance(node, cst.FormattedString):
        last = max(
            (i for i, p in enumerate(node.parts) if isinstance(p, cst.FormattedStringExpression)),
            default=None,
        )
        if last is None:
            return None
        head = list(node.parts[:last])
        if not head:
            return None
        if not any(isinstance(p, cst.FormattedStringExpression) for p in head):
            text = "".join(p.value for p in head if isinstance(p, cst.FormattedStringText))
            return str_literal(text) if text.strip("/") or text == "/" else None
        return node.with_changes(parts=head)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide | cst.Add):
        return node.left
    if isinstance(node, cst.Call):
        args = [a for a in node.args if a.keyword is None and not a.star]
        q = source_of(node.func)
        if len(args) >= 2 and (q.endswith("join") or q.endswith("Path")):
            if len(args) == 2:
                return args[0].value
            return node.with_changes(
                args=[
                    a.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(args) - 2 else a
                    for i, a in enumerate(args[:-1])
                ]
            )
    return None


_HELPER = '''\
def _confined_path(folder, path):
    """``path`` resolved, refused when it leaves ``folder`` (written by mamori fix against path
    traversal; sub-folders of ``folder`` keep working)."""
    root = os.path.realpath(folder)
    full = os.path.realpath(os.path.join(root, os.fspath(path)))
    if os.path.commonpath([root, full]) != root:
        raise ValueError("refused: the path leaves its folder")
    return full if isinstance(path, str) else type(path)(full)
'''
