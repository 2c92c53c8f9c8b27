"""Trust boundary: request data validated against an allow-list before it is stored in the session."""

from __future__ import annotations

import libcst as cst

from mamori.fix.fixers._shared import Context, NoFix, source_of

CWES = ("CWE-501",)
"""The weaknesses this fixer answers."""


SESSION_KEY_PATTERN = r"[A-Za-z0-9_.\-]{1,64}"
"""What a session key made from input may look like: a short identifier."""
SESSION_VALUE_PATTERN = r"[\w .,@:+=/\-]{0,256}"
"""What a session value made from input may look like: short text without quotes, markup or
control characters (``\\w`` is Unicode-aware, so names in any script pass)."""

_SESSION_STORES = ("flask.session", "request.session", "flask.request.session")


def _is_session(ctx: Context, node: cst.BaseExpression) -> bool:
    q = ctx.qualname(node)
    return q in _SESSION_STORES or q.endswith(".request.session") or source_of(node) == "request.session"


def _constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.SimpleString | cst.Integer | cst.Float):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _constant(node.left) and _constant(node.right)
    return isinstance(node, cst.Name) and node.value in ("True", "False", "None")


def fix(ctx: Context, line: int) -> tuple[str, list[str]]:
    """Validate request data against an allow-list before it is stored in the session."""
    store: cst.Assign | None = None
    for node in ctx.positions:
        if (
            isinstance(node, cst.Assign)
            and ctx.span(node)[0] <= line <= ctx.span(node)[1]
            and len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Subscript)
            and _is_session(ctx, node.targets[0].target.value)
        ):
            store = node
            break
    if store is None:
        raise NoFix(
            f"no session store of the known kind (flask.session[…] = …, request.session[…] = …) at line {line}",
            (
                "validate the value against an allow-list before storing it",
                "store a server-chosen identifier instead",
            ),
        )
    where = ctx.block_of(store)
    if where is None or len(where[0].body) != 1:
        raise NoFix("the session store shares its line with other statements; split it first")
    statement, block = where
    if id(statement) in ctx.before:
        return "session key and value validated against an allow-list before they are stored", []
    target = store.targets[0].target
    assert isinstance(target, cst.Subscript)
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        raise NoFix("the session key is a slice or a tuple")
    key = target.slice[0].slice.value
    value = store.value
    config = ctx.module.config_for_parsing
    indent = ctx.module.default_indent
    new_statements: list[cst.SimpleStatementLine | cst.BaseCompoundStatement] = []
    checked: list[str] = []

    def check(node: cst.BaseExpression, temp: str, pattern: str, what: str) -> None:
        if isinstance(node, cst.Name):
            name = node.value
        else:
            name = temp
            new_statements.append(cst.parse_statement(f"{temp} = {source_of(node)}\n", config=config))
            ctx.replace(node, cst.Name(temp))
        guard = cst.parse_statement(
            f'if not re.fullmatch(r"{pattern}", str({name})):\n'
            f'{indent}raise ValueError("refused: the session {what} is not of the allowed form")\n',
            config=config,
        )
        assert isinstance(guard, cst.If) and isinstance(guard.body, cst.IndentedBlock)
        # indent the guard's body like the block it sits in (tabs stay tabs)
        block_indent = block.indent if isinstance(block, cst.IndentedBlock) else None
        new_statements.append(guard.with_changes(body=guard.body.with_changes(indent=block_indent)))
        checked.append(what)

    if not _constant(value):
        check(value, "checked_session_value", SESSION_VALUE_PATTERN, "value")
    if not _constant(key):
        check(key, "checked_session_key", SESSION_KEY_PATTERN, "key")
    if not checked:
        raise NoFix(f"the session store at line {line} stores constants only")
    ctx.before[id(statement)] = new_statements
    ctx.imports.add("re")
    what = " and ".join(reversed(checked))
    return (
        f"session {what} validated against an allow-list before {'they are' if len(checked) > 1 else 'it is'} stored",
        [
            "input outside the allow-list now raises ValueError; widen the pattern to the field's real format if needed"
        ],
    )
