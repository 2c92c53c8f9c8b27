"""Rule-based rewrites of weaknesses in Python code, with libcst so formatting is preserved.

Why keyed on the CWE and the shape of the sink: rule ids belong to the analysis stage and may
change; what a fix needs is *what kind of hole* (the CWE) and *what the code looks like* at the
sink line (an ``execute`` whose query is an f-string, a ``subprocess.run`` with ``shell=True``…).
Each handler finds the call at the finding's line (or the lines of its trace), follows a query
or command held in a local variable back to its assignment in the same function, and rewrites
it into the safe form. Handlers that cannot place a safe rewrite say why; weaknesses with no
safe mechanical rewrite (pickle from a client, ``exec``, session trust) are reported as such.

All rewrites of one file are applied in one pass over the original tree, so any subset of the
findings of a file can be rendered together (the combined verification run relies on this).
"""

from __future__ import annotations

import ast
import re
import shlex
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider


@dataclass(frozen=True, slots=True)
class CodeTarget:
    """One code finding to fix in a file: its id, CWEs, sink line and trace lines in this file."""

    finding_id: str
    cwe: tuple[str, ...]
    line: int
    trace_lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    """Whether a target got a rewrite, what it is, or why there is none (with options)."""

    fixed: bool
    summary: str
    notes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


class _NoFix(Exception):
    """A handler cannot place a rewrite; the message says why."""

    def __init__(self, why: str, options: Sequence[str] = ()) -> None:
        super().__init__(why)
        self.why = why
        self.options = tuple(options)


NOT_POSSIBLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "CWE-918": (
        "which hosts the server may fetch from is the application's policy; mamori cannot guess the allow-list",
        ("check the URL's host against an allow-list before the request",),
    ),
    "CWE-798": (
        "a hard-coded secret must be rotated and moved out of the code; a rewrite cannot do either",
        ("read it from the environment or a secret store, and rotate it",),
    ),
    "CWE-327": (
        "replacing a cipher changes the data format and key management; no drop-in rewrite exists",
        ("use AES-GCM or ChaCha20-Poly1305 from the cryptography package",),
    ),
    "CWE-377": (
        "tempfile.mkstemp returns a descriptor and a name, so the code around mktemp must change by hand",
        ("use tempfile.NamedTemporaryFile or tempfile.mkstemp",),
    ),
}


def rewrite_code(
    text: str, targets: Sequence[CodeTarget], *, paramstyle: str = ""
) -> tuple[str, dict[str, CodeOutcome]]:
    """``text`` with every target that has a safe rewrite rewritten, and the outcome of each target.

    ``paramstyle`` is the DB-API placeholder style of the project's database driver (``qmark``
    for sqlite3, ``format`` for psycopg/MySQL drivers); by default it is guessed from the file.
    Raises :class:`libcst.ParserSyntaxError` when the file does not parse.
    """
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    ctx = _Context(wrapper)
    ctx.paramstyle = paramstyle or guess_paramstyle(text)
    outcomes: dict[str, CodeOutcome] = {}
    for target in targets:
        outcomes[target.finding_id] = ctx.fix(target)
    if not ctx.replacements and not ctx.before:
        return text, outcomes
    new_module = wrapper.module.visit(_Replacer(ctx.replacements, ctx.before))
    if ctx.imports:
        cctx = CodemodContext()
        for mod in sorted(ctx.imports):
            AddImportsVisitor.add_needed_import(cctx, mod)
        new_module = AddImportsVisitor(cctx).transform_module(new_module)
    return new_module.code, outcomes


class _Replacer(cst.CSTTransformer):
    """Swaps nodes by identity and puts new statements in front of a statement (its comments and
    blank lines stay on top of the first of them)."""

    def __init__(
        self,
        replacements: dict[int, cst.CSTNode],
        before: dict[int, list[cst.SimpleStatementLine | cst.BaseCompoundStatement]] | None = None,
    ) -> None:
        self.replacements = replacements
        self.before = before or {}

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        new = self.replacements.get(id(original_node), updated_node)
        inserted = self.before.get(id(original_node))
        if inserted and isinstance(new, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            first = inserted[0].with_changes(leading_lines=new.leading_lines)
            return cst.FlattenSentinel([first, *inserted[1:], new.with_changes(leading_lines=())])
        return new


# ------------------------------------------------------------------ small CST helpers


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _expr(source: str) -> cst.BaseExpression:
    return cst.parse_expression(source)


def _call(func: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=_expr(func), args=[cst.Arg(a) for a in args])


def _str_literal(value: str, prefer: str = '"') -> cst.SimpleString:
    if prefer not in value and "\\" not in value and "\n" not in value and "\r" not in value:
        return cst.SimpleString(prefer + value + prefer)
    return cst.SimpleString(repr(value))


def _is_str_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "str"


def _as_str(node: cst.BaseExpression) -> cst.BaseExpression:
    return node if _is_str_call(node) or isinstance(node, cst.SimpleString) else _call("str", node)


def _literal_value(node: cst.SimpleString) -> str | None:
    try:
        value = ast.literal_eval(node.value)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


Part = tuple[str, "str | cst.BaseExpression"]
"""A piece of a string being built: ``("lit", text)`` or ``("expr", node)``."""


def _parts(node: cst.BaseExpression) -> list[Part] | None:
    """The literal and interpolated pieces of a string expression, or None if it is not one."""
    if isinstance(node, cst.SimpleString):
        value = _literal_value(node)
        return None if value is None else [("lit", value)]
    if isinstance(node, cst.ConcatenatedString):
        left, right = _parts(node.left), _parts(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        out: list[Part] = []
        quote = node.end
        prefix = node.start[: -len(quote)].replace("f", "").replace("F", "")
        for piece in node.parts:
            if isinstance(piece, cst.FormattedStringText):
                raw = piece.value.replace("{{", "{").replace("}}", "}")
                try:
                    value = ast.literal_eval(prefix + quote + raw + quote)
                except (ValueError, SyntaxError):
                    return None
                out.append(("lit", value))
            elif isinstance(piece, cst.FormattedStringExpression):
                out.append(("expr", piece.expression))
        return out
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = _parts(node.left), _parts(node.right)
        if left is None and right is None:
            return None
        return (left or [("expr", node.left)]) + (right or [("expr", node.right)])
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        base = node.func.value
        if isinstance(base, cst.SimpleString):
            template = _literal_value(base)
            if template is not None:
                return _format_parts(template, node.args)
    joined = _join_items(node)
    if joined is not None:
        sep, items = joined
        out_join: list[Part] = []
        for i, item in enumerate(items):
            if i and sep:
                out_join.append(("lit", sep))
            out_join.extend(_parts(item) or [("expr", item)])
        return out_join
    if (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Modulo)
        and isinstance(node.left, cst.SimpleString)
    ):
        template = _literal_value(node.left)
        if template is None:
            return None
        values = list(node.right.elements) if isinstance(node.right, cst.Tuple) else [cst.Element(node.right)]
        out = []
        pieces = re.split(r"(%[sdir])", template.replace("%%", "\x00"))
        i = 0
        for chunk in pieces:
            if re.fullmatch(r"%[sdir]", chunk):
                if i >= len(values):
                    return None
                out.append(("expr", values[i].value))
                i += 1
            elif chunk:
                out.append(("lit", chunk.replace("\x00", "%")))
        return out
    return None


def _join_items(node: cst.BaseExpression) -> tuple[str, list[cst.BaseExpression]] | None:
    """``(separator, items)`` of ``"sep".join([a, b, …])`` with a literal list or tuple, else None."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "join"
        and isinstance(node.func.value, cst.SimpleString)
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
        and isinstance(node.args[0].value, cst.List | cst.Tuple)
    ):
        return None
    sep = _literal_value(node.func.value)
    elements = node.args[0].value.elements
    if sep is None or any(isinstance(e, cst.StarredElement) for e in elements):
        return None
    return sep, [e.value for e in elements]


def _format_parts(template: str, args: Sequence[cst.Arg]) -> list[Part] | None:
    positional = [a.value for a in args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
    out: list[Part] = []
    auto = 0
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, field_name, _spec, _conv in parsed:
        if literal:
            out.append(("lit", literal))
        if field_name is None:
            continue
        m = re.match(r"^([A-Za-z_]\w*|\d*)(.*)$", field_name)
        if m is None:
            return None
        head, rest = m.group(1), m.group(2)
        if head == "":
            if auto >= len(positional):
                return None
            base = positional[auto]
            auto += 1
        elif head.isdigit():
            if int(head) >= len(positional):
                return None
            base = positional[int(head)]
        elif head in keywords:
            base = keywords[head]
        else:
            return None
        if rest:
            sub = re.sub(
                r"\[([^\]]+)\]",
                lambda k: f"[{k.group(1)!r}]" if not k.group(1).isdigit() else k.group(0),
                rest,
            )
            try:
                out.append(("expr", _expr(f"({_code(base)}){sub}")))
            except cst.ParserSyntaxError:
                return None
        else:
            out.append(("expr", base))
    return out


def _wrap_interpolations(
    node: cst.BaseExpression, wrap: Callable[[cst.BaseExpression], cst.BaseExpression | None]
) -> cst.BaseExpression | None:
    """``node`` with each interpolated value passed through ``wrap`` (None: nothing to wrap)."""
    changed = False

    def w(value: cst.BaseExpression) -> cst.BaseExpression:
        nonlocal changed
        new = wrap(value)
        if new is None:
            return value
        changed = True
        return new

    if isinstance(node, cst.FormattedString):
        parts = [
            p.with_changes(expression=w(p.expression)) if isinstance(p, cst.FormattedStringExpression) else p
            for p in node.parts
        ]
        result: cst.BaseExpression = node.with_changes(parts=parts)
    elif isinstance(node, cst.ConcatenatedString):
        left = _wrap_interpolations(node.left, wrap)
        right = _wrap_interpolations(node.right, wrap)
        if left is None and right is None:
            return None
        return node.with_changes(left=left or node.left, right=right or node.right)
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left = _wrap_interpolations(node.left, wrap)
        right = _wrap_interpolations(node.right, wrap)
        result = node.with_changes(
            left=left if left is not None else (node.left if _stringish(node.left) else w(node.left)),
            right=right if right is not None else (node.right if _stringish(node.right) else w(node.right)),
        )
    elif (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        result = node.with_changes(args=[a.with_changes(value=w(a.value)) for a in node.args])
    elif (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Modulo)
        and _stringish(node.left)
    ):
        if isinstance(node.right, cst.Tuple):
            right2: cst.BaseExpression = node.right.with_changes(
                elements=[e.with_changes(value=w(e.value)) for e in node.right.elements]
            )
        else:
            right2 = w(node.right)
        result = node.with_changes(right=right2)
    elif _join_items(node) is not None:
        assert isinstance(node, cst.Call)
        seq = node.args[0].value
        assert isinstance(seq, cst.List | cst.Tuple)
        elements = []
        for e in seq.elements:
            inner = _wrap_interpolations(e.value, wrap) if _stringish(e.value) else None
            if inner is not None:
                changed = True
                elements.append(e.with_changes(value=inner))
            else:
                elements.append(e if _stringish(e.value) else e.with_changes(value=w(e.value)))
        result = node.with_changes(
            args=[node.args[0].with_changes(value=seq.with_changes(elements=elements))]
        )
    elif isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
        result = w(node)
    else:
        return None
    return result if changed else None


def _stringish(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


def _wrapper(
    func: str, *, skip_words: tuple[str, ...], as_str: bool = True
) -> Callable[[cst.BaseExpression], cst.BaseExpression | None]:
    def wrap(value: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(value, cst.SimpleString | cst.Integer | cst.Float):
            return None
        if isinstance(value, cst.Call):
            name = _code(value.func).lower()
            if any(word in name for word in skip_words):
                return None
        return _call(func, _as_str(value) if as_str else value)

    return wrap


# ------------------------------------------------------------------ the per-file context


_FORMAT_DRIVERS = re.compile(
    r"^\s*(?:import|from)\s+(psycopg2?|pymysql|MySQLdb|mysql\.connector|pgdb|pg8000)\b", re.M
)


def guess_paramstyle(text: str) -> str:
    """``format`` when the code imports a ``%s`` driver (psycopg, PyMySQL …), else ``qmark`` (sqlite3)."""
    return "format" if _FORMAT_DRIVERS.search(text) else "qmark"


class _Context:
    paramstyle: str = "qmark"

    def __init__(self, wrapper: MetadataWrapper) -> None:
        self.wrapper = wrapper
        self.module = wrapper.module
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self.replacements: dict[int, cst.CSTNode] = {}
        self.before: dict[int, list[cst.SimpleStatementLine | cst.BaseCompoundStatement]] = {}
        """Statements to insert in front of a statement (keyed by the id of the original)."""
        self.imports: set[str] = set()
        self.aliases = self._aliases()
        self.calls: list[cst.Call] = [n for n in self.positions if isinstance(n, cst.Call)]
        self.source = self.module.code

    # -- structure

    def _aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for node in self.positions:
            if isinstance(node, cst.Import):
                for alias in node.names:
                    full = _code(alias.name)
                    if alias.asname is not None:
                        aliases[_code(alias.asname.name)] = full
            elif (
                isinstance(node, cst.ImportFrom)
                and node.module is not None
                and not isinstance(node.names, cst.ImportStar)
            ):
                mod = _code(node.module)
                for alias in node.names:
                    local = _code(alias.asname.name) if alias.asname else _code(alias.name)
                    aliases[local] = f"{mod}.{_code(alias.name)}"
        return aliases

    def qualname(self, func: cst.BaseExpression) -> str:
        text = _code(func)
        head, _, rest = text.partition(".")
        if head in self.aliases:
            return self.aliases[head] + ("." + rest if rest else "")
        return text

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        pos = self.positions[node]
        return pos.start.line, pos.end.line

    def calls_at(self, line: int) -> list[cst.Call]:
        found = [c for c in self.calls if self.span(c)[0] <= line <= self.span(c)[1]]
        return sorted(found, key=lambda c: (self.line(c) != line, self.span(c)[1] - self.span(c)[0]))

    def function_of(self, node: cst.CSTNode) -> cst.CSTNode:
        cur: cst.CSTNode = node
        while cur in self.parents:
            cur = self.parents[cur]
            if isinstance(cur, cst.FunctionDef):
                return cur
        return self.module

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        cur: cst.CSTNode = node
        while cur in self.parents:
            if isinstance(cur, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                return cur
            cur = self.parents[cur]
        return None

    def assignments(self, name: str, scope: cst.CSTNode, before: int) -> list[cst.Assign | cst.AugAssign]:
        """Assignments ``name = …`` / ``name += …`` in ``scope`` that start before line ``before``."""
        found: list[cst.Assign | cst.AugAssign] = []
        for node in self.positions:
            if isinstance(node, cst.Assign) and len(node.targets) == 1:
                target = node.targets[0].target
            elif isinstance(node, cst.AugAssign):
                target = node.target
            else:
                continue
            if (
                isinstance(target, cst.Name)
                and target.value == name
                and self.line(node) < before
                and self.function_of(node) is scope
            ):
                found.append(node)
        return sorted(found, key=self.line)

    def definition(
        self, value: cst.BaseExpression, at: cst.CSTNode, *, builders: bool = False
    ) -> tuple[cst.BaseExpression, cst.Assign | None]:
        """Follow a local variable back to its last plain assignment in the same function.

        With ``builders``, a value read from an ``io.StringIO`` (``q = buf.getvalue()``) is
        returned as the equivalent ``"".join([...])`` of what was written to the buffer, so its
        pieces can be read; the caller must then replace the assignment's value, never the
        returned expression (which is not part of the tree).
        """
        if isinstance(value, cst.Name):
            assigns = self.assignments(value.value, self.function_of(at), self.line(at))
            if assigns and isinstance(assigns[-1], cst.Assign):
                last = assigns[-1]
                assert isinstance(last, cst.Assign)
                if builders:
                    built = self._stringio_text(last)
                    if built is not None:
                        return built, last
                return last.value, last
        return value, None

    def block_of(self, node: cst.CSTNode) -> tuple[cst.SimpleStatementLine, cst.CSTNode] | None:
        """The statement line holding ``node`` and the block (indented block or module) it sits in."""
        statement = self.statement_of(node)
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        block = self.parents.get(statement)
        if not isinstance(block, cst.IndentedBlock | cst.Module):
            return None
        return statement, block

    def _stringio_text(self, assign: cst.Assign) -> cst.BaseExpression | None:
        """``"".join([w1, w2, …])`` for ``q = buf.getvalue()`` when ``buf`` is an ``io.StringIO``
        filled only by ``buf.write(w)`` statements in the same block, in order; else None."""
        value = assign.value
        if not (
            isinstance(value, cst.Call)
            and not value.args
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "getvalue"
            and isinstance(value.func.value, cst.Name)
        ):
            return None
        buf = value.func.value.value
        here = self.block_of(assign)
        if here is None:
            return None
        _stmt, block = here
        scope = self.function_of(assign)
        made = [
            a
            for a in self.assignments(buf, scope, self.line(assign))
            if isinstance(a, cst.Assign)
            and isinstance(a.value, cst.Call)
            and self.qualname(a.value.func) == "io.StringIO"
        ]
        if not made or self.block_of(made[-1]) is None or self.block_of(made[-1])[1] is not block:  # type: ignore[index]
            return None
        start, end = self.line(made[-1]), self.line(assign)
        init = made[-1].value
        assert isinstance(init, cst.Call)
        items: list[cst.BaseExpression] = []
        if init.args:
            if len(init.args) != 1 or init.args[0].keyword is not None or not _stringish(init.args[0].value):
                return None
            items.append(init.args[0].value)
        for node in self.positions:
            if not (
                isinstance(node, cst.Attribute)
                and isinstance(node.value, cst.Name)
                and node.value.value == buf
                and start < self.line(node) < end
                and self.function_of(node) is scope
            ):
                continue
            call = self.parents.get(node)
            if node.attr.value != "write" or not isinstance(call, cst.Call) or call.func is not node:
                return None  # seek, truncate, a buffer passed elsewhere: the text is not simple
            if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
                return None
            where = self.block_of(call)
            if where is None or where[1] is not block or not isinstance(self.parents.get(call), cst.Expr):
                return None  # written in a branch or loop: the order is not known
            items.append(call.args[0].value)
        if not items:
            return None
        return cst.Call(
            func=cst.Attribute(value=cst.SimpleString('""'), attr=cst.Name("join")),
            args=[cst.Arg(cst.List([cst.Element(i) for i in items]))],
        )

    def replace(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        self.replacements[id(old)] = new

    # -- dispatch

    def fix(self, target: CodeTarget) -> CodeOutcome:
        handlers = [h for cwe in target.cwe for h in _HANDLERS.get(cwe.upper(), ())]
        if not handlers:
            for cwe in target.cwe:
                if cwe.upper() in NOT_POSSIBLE:
                    why, options = NOT_POSSIBLE[cwe.upper()]
                    return CodeOutcome(False, why, options=options)
            return CodeOutcome(False, f"no rule-based rewrite for {', '.join(target.cwe) or 'this finding'}")
        lines = [target.line, *[ln for ln in target.trace_lines if ln != target.line]] if target.line else []
        if not lines:
            lines = sorted({self.line(c) for c in self.calls})
        first_error: _NoFix | None = None
        for line in lines:
            for handler in handlers:
                saved = (dict(self.replacements), set(self.imports), dict(self.before))
                try:
                    summary, notes = handler(self, line)
                except _NoFix as exc:
                    self.replacements, self.imports, self.before = saved
                    if first_error is None and line == lines[0]:
                        first_error = exc
                    if exc.options:  # a definite "no safe rewrite" for this sink
                        return CodeOutcome(False, exc.why, options=exc.options)
                    continue
                return CodeOutcome(True, summary, tuple(notes))
        if first_error is not None:
            return CodeOutcome(False, first_error.why, options=first_error.options)
        return CodeOutcome(False, f"no sink of the expected shape at line {target.line}")


Handler = Callable[[_Context, int], tuple[str, list[str]]]


def _find(ctx: _Context, line: int, pred: Callable[[str, cst.Call], bool], what: str) -> tuple[str, cst.Call]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if pred(q, call):
            return q, call
    raise _NoFix(f"no {what} at line {line}")


def _positional(call: cst.Call, index: int, keyword: tuple[str, ...] = ()) -> cst.Arg | None:
    pos = [a for a in call.args if a.keyword is None and not a.star]
    if index < len(pos):
        return pos[index]
    for a in call.args:
        if a.keyword is not None and a.keyword.value in keyword:
            return a
    return None


def _set_keyword(call: cst.Call, name: str, value: cst.BaseExpression, *, overwrite: bool = True) -> cst.Call:
    args = list(call.args)
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == name:
            if overwrite:
                args[i] = a.with_changes(value=value)
            return call.with_changes(args=args)
    new_arg = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    elif args and isinstance(args[-1].comma, cst.Comma):
        last = args[-1]
        trailing = last.comma
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new_arg = (
            new_arg.with_changes(comma=trailing)
            if isinstance(trailing, cst.Comma) and "\n" in _code(trailing)
            else new_arg
        )
    args.append(new_arg)
    return call.with_changes(args=args)


def _drop_keyword(call: cst.Call, name: str) -> cst.Call:
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == name)]
    if (
        args
        and isinstance(args[-1].comma, cst.Comma)
        and not any(a.keyword is not None and a.keyword.value == name for a in call.args[-1:])
    ):
        pass
    elif args:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


def _replace_arg(call: cst.Call, arg: cst.Arg, value: cst.BaseExpression) -> cst.Call:
    return call.with_changes(args=[a.with_changes(value=value) if a is arg else a for a in call.args])


# ------------------------------------------------------------------ parameterising (SQL, XPath)


_QUOTES = ("'", '"')


def _parameterise(
    parts: list[Part], placeholder: Callable[[int], str]
) -> tuple[str, list[cst.BaseExpression]]:
    """Turn string pieces into a statement with placeholders and the values to bind."""
    text: list[str] = []
    params: list[cst.BaseExpression] = []
    i = 0
    while i < len(parts):
        kind, value = parts[i]
        if kind == "lit":
            assert isinstance(value, str)
            text.append(value)
            i += 1
            continue
        assert not isinstance(value, str)
        before = "".join(text)
        after = parts[i + 1][1] if i + 1 < len(parts) and parts[i + 1][0] == "lit" else ""
        assert isinstance(after, str)
        m_before = re.search(r"(['\"])(%?)$", before)
        if (m_before and after.startswith(m_before.group(2) + m_before.group(1))) or (
            m_before and after.startswith(m_before.group(1)) and not m_before.group(2)
        ):
            assert m_before is not None
            quote, wild_before = m_before.group(1), m_before.group(2)
            wild_after = "%" if after.startswith("%" + quote) else ""
            text = ["".join(text)[: m_before.start()]]
            bound: cst.BaseExpression = _as_str(value)
            if wild_before or wild_after:
                bound = _expr(
                    f"{wild_before!r} + {_code(_as_str(value))} + {wild_after!r}".replace(
                        "'' + ", ""
                    ).replace(" + ''", "")
                )
            text.append(placeholder(len(params)))
            params.append(bound)
            parts = [*parts[: i + 1], ("lit", after[len(wild_after) + 1 :]), *parts[i + 2 :]]
            i += 1
            continue
        text.append(placeholder(len(params)))
        params.append(value)
        i += 1
    return "".join(text), params


def _param_node(
    node: cst.BaseExpression, placeholder: Callable[[int], str], params: list[cst.BaseExpression]
) -> cst.BaseExpression | None:
    """``node`` as a plain string (or a concatenation of strings in the original layout) with
    placeholders; the values to bind are appended to ``params``. None when it is not a string."""
    if isinstance(node, cst.ConcatenatedString):
        left = _param_node(node.left, placeholder, params)
        right = _param_node(node.right, placeholder, params) if left is not None else None
        if left is None or right is None:
            return None
        return node.with_changes(left=left, right=right)
    parts = _parts(node)
    if parts is None:
        return None
    offset = len(params)
    text, found = _parameterise(parts, lambda i: placeholder(offset + i))
    params.extend(found)
    quote = (
        node.end
        if isinstance(node, cst.FormattedString)
        else (node.quote if isinstance(node, cst.SimpleString) else '"')
    )
    new = _str_literal(text, quote if quote in ("'", '"') else '"')
    return (
        new.with_changes(lpar=node.lpar, rpar=node.rpar)
        if isinstance(node, cst.SimpleString | cst.FormattedString)
        else new
    )


def _sql(ctx: _Context, line: int) -> tuple[str, list[str]]:
    _q, call = _find(
        ctx,
        line,
        lambda q, c: (
            isinstance(c.func, cst.Attribute) and c.func.attr.value in ("execute", "executemany", "raw")
        ),
        "execute() call",
    )
    arg = _positional(call, 0, ("sql", "operation", "statement", "raw_query"))
    if arg is None:
        raise _NoFix("the query is not passed as the first argument")
    if _positional(call, 1, ("params", "parameters", "args")) is not None:
        raise _NoFix("the call already passes parameters; the query text is built some other way")
    query, assign = ctx.definition(arg.value, call, builders=True)
    parts = _parts(query)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise _NoFix("the query is not built from strings and values at this line")
    mark = "%s" if ctx.paramstyle == "format" else "?"
    params: list[cst.BaseExpression] = []
    text, whole = _parameterise(parts, lambda _i: mark)
    literal: cst.BaseExpression | None = None
    if isinstance(query, cst.ConcatenatedString):
        literal = _param_node(query, lambda _i: mark, params)
        pieces = _parts(literal) if literal is not None else None
        if pieces is None or any(k != "lit" for k, _ in pieces) or "".join(str(v) for _, v in pieces) != text:
            literal = None  # a quote spans two pieces: fall back to one literal
    if literal is None:
        params = whole
        literal = _str_literal(text, '"' if "'" in text else "'")
    values = cst.Tuple([cst.Element(p) for p in params]) if params else None
    if values is None:
        raise _NoFix("nothing to bind")
    if assign is not None:
        ctx.replace(assign.value, literal)
        new_call = call.with_changes(args=[*call.args[:1], *call.args[1:]])
    else:
        new_call = _replace_arg(call, arg, literal)
    first = new_call.args[0]
    rest = list(new_call.args[1:])
    new_args = [
        first.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        cst.Arg(values),
        *rest,
    ]
    if rest:
        new_args[1] = new_args[1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    ctx.replace(call, new_call.with_changes(args=new_args))
    return f"parameterised query ({len(params)} bound value{'s' if len(params) != 1 else ''})", []


# ------------------------------------------------------------------ commands


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
                value if isinstance(value, cst.Name | cst.Attribute | cst.Subscript) else _as_str(value)
            )
        elif "\x00" in word:
            return None
        else:
            out.append(_str_literal(word))
    return out if out else None


def _list_expr(items: list[cst.BaseExpression]) -> cst.List:
    return cst.List([cst.Element(i) for i in items])


def _cmd(ctx: _Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return q in _SUBPROCESS or q in (
            "os.system",
            "os.popen",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
        )

    q, call = _find(ctx, line, is_sink, "command call")
    arg = _positional(call, 0, ("args",))
    if arg is None:
        raise _NoFix("the command is not passed as the first argument")
    shell = any(
        a.keyword is not None and a.keyword.value == "shell" and _code(a.value) == "True" for a in call.args
    )
    value, assign = ctx.definition(arg.value, call)
    quote = _wrapper("shlex.quote", skip_words=("quote",))
    if q in _SUBPROCESS and not shell:
        # An argument list: the shell comes back through `sh -c TEXT`; quote the values in TEXT.
        if isinstance(arg.value, cst.Name):
            fixed = _quote_list_builders(ctx, arg.value.value, call, quote)
            if fixed:
                ctx.imports.add("shlex")
                return "values quoted with shlex.quote in the command run by the shell", []
        raise _NoFix(
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
    parts = _parts(value)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise _NoFix("the command line is not built from strings and values here")
    argv = _argv(parts)
    if argv is not None and q in (*_SUBPROCESS, "os.system"):
        new_list = _list_expr(argv)
        if q == "os.system":
            new_call = cst.Call(func=_expr("subprocess.call"), args=[cst.Arg(new_list)])
            ctx.imports.add("subprocess")
            note = ["os.system returned a wait status; subprocess.call returns the exit code"]
        else:
            new_call = _drop_keyword(_replace_arg(call, arg, new_list), "shell")
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
                else cst.Call(func=_expr("subprocess.call"), args=[cst.Arg(arg.value)])
            )
        ctx.replace(call, new_call)
        return "argument list without a shell", note
    wrapped = _wrap_interpolations(value, quote)
    if wrapped is None:
        raise _NoFix("no interpolated value to quote")
    ctx.replace(value if assign is not None else arg.value, wrapped)
    ctx.imports.add("shlex")
    return "values quoted with shlex.quote (the command needs a shell)", []


def _quote_built_command(
    ctx: _Context, name: str, at: cst.Call, quote: Callable[[cst.BaseExpression], cst.BaseExpression | None]
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
        parts = _parts(a.value)
        if parts is None:
            return False  # a value from elsewhere: the program itself may be chosen by the input
        pieces.append((a.value, parts))
    if not any(k == "expr" for _v, parts in pieces for k, _ in parts):
        return False
    for value, parts in pieces:
        if any(k == "expr" for k, _ in parts):
            wrapped = _wrap_interpolations(value, quote)
            if wrapped is not None:
                ctx.replace(value, wrapped)
    return True


def _quote_list_builders(
    ctx: _Context, name: str, at: cst.Call, quote: Callable[[cst.BaseExpression], cst.BaseExpression | None]
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
                _wrap_interpolations(value, quote)
                if _stringish(value) or isinstance(value, cst.BinaryOperation | cst.Call)
                else None
            )
            if wrapped is not None:
                ctx.replace(value, wrapped)
                fixed = True
    for assign in ctx.assignments(name, scope, ctx.line(at)):
        if isinstance(assign.value, cst.List):
            for el in assign.value.elements:
                wrapped = _wrap_interpolations(el.value, quote) if _stringish(el.value) else None
                if wrapped is not None:
                    ctx.replace(el.value, wrapped)
                    fixed = True
    return fixed


# ------------------------------------------------------------------ deserialisation, eval


_YAML_SAFE = {
    "yaml.load": "safe_load",
    "yaml.full_load": "safe_load",
    "yaml.unsafe_load": "safe_load",
    "yaml.load_all": "safe_load_all",
    "yaml.full_load_all": "safe_load_all",
    "yaml.unsafe_load_all": "safe_load_all",
}
_PICKLES = (
    "pickle.",
    "_pickle.",
    "cPickle.",
    "dill.",
    "marshal.",
    "shelve.",
    "jsonpickle.",
    "pandas.read_pickle",
)


def _deser(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q in _YAML_SAFE:
            arg = _positional(call, 0, ("stream",))
            if arg is None:
                raise _NoFix("yaml.load without a stream argument")
            if isinstance(call.func, cst.Attribute) and ctx.qualname(call.func.value) == "yaml":
                func: cst.BaseExpression = call.func.with_changes(attr=cst.Name(_YAML_SAFE[q]))
            else:
                func = _expr(f"yaml.{_YAML_SAFE[q]}")
                ctx.imports.add("yaml")
            ctx.replace(
                call,
                cst.Call(
                    func=func,
                    args=[
                        arg.with_changes(
                            keyword=None, equal=cst.MaybeSentinel.DEFAULT, comma=cst.MaybeSentinel.DEFAULT
                        )
                    ],
                ),
            )
            return f"yaml.{_YAML_SAFE[q]} (plain data only, no Python objects)", []
        if q.startswith(_PICKLES):
            raise _NoFix(
                f"{q} runs code chosen by whoever wrote the data; no loader makes untrusted pickle-family data safe",
                (
                    "exchange the data as JSON (json.loads) and validate it",
                    "if it must stay pickle, authenticate it first (hmac.compare_digest over a server-side key)",
                ),
            )
    raise _NoFix(f"no deserialising call at line {line}")


def _codeinj(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q in ("eval", "builtins.eval") and call.args:
            ctx.replace(
                call,
                call.with_changes(
                    func=_expr("ast.literal_eval"),
                    args=[call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
                ),
            )
            ctx.imports.add("ast")
            return "ast.literal_eval (literals only, no code)", [
                "expressions other than Python literals are now refused with ValueError"
            ]
        if q in ("exec", "builtins.exec", "compile", "builtins.compile"):
            raise _NoFix(
                f"{q} runs statements; there is no safe subset of Python to fall back to",
                ("map the input to an allow-list of operations instead of running it as code",),
            )
    raise _NoFix(f"no eval/exec at line {line}")


# ------------------------------------------------------------------ crypto, randomness, cookies, TLS


_WEAK = ("md5", "sha1", "md4", "md2", "sha")
_NOT_SECURITY = re.compile(r"etag|cache|checksum|fingerprint|dedup|cachekey|content_id", re.IGNORECASE)


def _hash(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        func_node = ctx.function_of(call)
        context_name = func_node.name.value if isinstance(func_node, cst.FunctionDef) else ""
        statement = ctx.statement_of(call)
        context_name += " " + (_code(statement) if statement is not None else "")
        not_security = bool(_NOT_SECURITY.search(context_name)) and "password" not in context_name.lower()
        if q in (f"hashlib.{w}" for w in _WEAK):
            if not_security:
                ctx.replace(call, _set_keyword(call, "usedforsecurity", cst.Name("False")))
                return "usedforsecurity=False (a cache validator, not a security control)", []
            if isinstance(call.func, cst.Attribute):
                ctx.replace(call, call.with_changes(func=call.func.with_changes(attr=cst.Name("sha256"))))
            else:
                ctx.replace(call, call.with_changes(func=_expr("hashlib.sha256")))
                ctx.imports.add("hashlib")
            return "SHA-256 instead of " + q.split(".")[-1].upper(), [
                "digests change: stored values made with the old hash no longer match"
            ]
        if q == "hashlib.new" and call.args and isinstance(call.args[0].value, cst.SimpleString):
            algo = (_literal_value(call.args[0].value) or "").lower().replace("-", "")
            if algo in _WEAK:
                if not_security:
                    ctx.replace(call, _set_keyword(call, "usedforsecurity", cst.Name("False")))
                    return "usedforsecurity=False (a cache validator, not a security control)", []
                ctx.replace(
                    call, _replace_arg(call, call.args[0], _str_literal("sha256", call.args[0].value.quote))
                )
                return f"SHA-256 instead of {algo.upper()}", [
                    "digests change: stored values made with the old hash no longer match"
                ]
    raise _NoFix(f"no weak hash call at line {line}")


_RANDOM_FUNCS = (
    "random",
    "randint",
    "randrange",
    "choice",
    "choices",
    "getrandbits",
    "uniform",
    "shuffle",
    "sample",
    "randbytes",
    "normalvariate",
    "gauss",
    "triangular",
    "betavariate",
    "expovariate",
    "lognormvariate",
)


def _random(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if q.startswith("random.") and q.split(".", 1)[1] in _RANDOM_FUNCS:
            method = q.split(".", 1)[1]
            ctx.replace(call, call.with_changes(func=_expr(f"secrets.SystemRandom().{method}")))
            ctx.imports.add("secrets")
            return f"secrets.SystemRandom().{method} (the operating system's CSPRNG)", []
    raise _NoFix(f"no call of the random module at line {line}")


def _cookie(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "set_cookie":
            new = _set_keyword(call, "secure", cst.Name("True"))
            new = _set_keyword(new, "httponly", cst.Name("True"))
            current = next(
                (a for a in call.args if a.keyword is not None and a.keyword.value == "samesite"), None
            )
            if current is None or _code(current.value) in ("None", "'None'", '"None"'):
                new = _set_keyword(new, "samesite", _str_literal("Lax", "'" if "'" in _code(call) else '"'))
            ctx.replace(call, new)
            return "cookie set with secure=True, httponly=True and samesite", [
                "the cookie is no longer sent over plain HTTP"
            ]
    raise _NoFix(f"no set_cookie call at line {line}")


def _tls(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        for a in call.args:
            if (
                a.keyword is not None
                and a.keyword.value in ("verify", "check_hostname")
                and _code(a.value) == "False"
            ):
                ctx.replace(call, _set_keyword(call, a.keyword.value, cst.Name("True")))
                return f"{a.keyword.value}=True (certificate verification back on)", []
        if q == "ssl._create_unverified_context":
            ctx.replace(call, call.with_changes(func=_expr("ssl.create_default_context")))
            ctx.imports.add("ssl")
            return "ssl.create_default_context (verifying)", []
    for node in ctx.positions:
        if (
            isinstance(node, cst.Assign)
            and ctx.line(node) == line
            and _code(node.value) in ("False", "ssl.CERT_NONE")
        ):
            target = _code(node.targets[0].target)
            if target.endswith("check_hostname"):
                ctx.replace(node.value, cst.Name("True"))
                return "check_hostname = True", []
            if target.endswith("verify_mode"):
                ctx.replace(node.value, _expr("ssl.CERT_REQUIRED"))
                return "verify_mode = ssl.CERT_REQUIRED", []
    raise _NoFix(f"no disabled verification at line {line}")


def _debug(ctx: _Context, line: int) -> tuple[str, list[str]]:
    for call in ctx.calls_at(line):
        for a in call.args:
            if a.keyword is not None and a.keyword.value == "debug" and _code(a.value) == "True":
                ctx.replace(call, _set_keyword(call, "debug", cst.Name("False")))
                return "debug=False", []
    raise _NoFix(f"no debug=True at line {line}")


# ------------------------------------------------------------------ XML, XPath, LDAP


_DEFUSED = {
    "xml.etree.ElementTree.parse": "defusedxml.ElementTree.parse",
    "xml.etree.ElementTree.fromstring": "defusedxml.ElementTree.fromstring",
    "xml.etree.ElementTree.XML": "defusedxml.ElementTree.fromstring",
    "xml.etree.ElementTree.iterparse": "defusedxml.ElementTree.iterparse",
    "xml.dom.minidom.parse": "defusedxml.minidom.parse",
    "xml.dom.minidom.parseString": "defusedxml.minidom.parseString",
    "xml.dom.pulldom.parse": "defusedxml.pulldom.parse",
    "xml.dom.pulldom.parseString": "defusedxml.pulldom.parseString",
    "xml.sax.parse": "defusedxml.sax.parse",
    "xml.sax.parseString": "defusedxml.sax.parseString",
}


def _xxe(ctx: _Context, line: int) -> tuple[str, list[str]]:
    calls = ctx.calls_at(line)
    if not calls:
        raise _NoFix(f"no parser call at line {line}")
    scope = ctx.function_of(calls[0])
    changed = 0
    for call in ctx.calls:
        if ctx.function_of(call) is not scope:
            continue
        if (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "setFeature"
            and len(call.args) == 2
        ):
            feature = _code(call.args[0].value)
            if re.search(r"external_(ges|pes)|external-general|external-parameter", feature) and _code(
                call.args[1].value
            ) in ("True", "1"):
                ctx.replace(call, _replace_arg(call, call.args[1], cst.Name("False")))
                changed += 1
        q = ctx.qualname(call.func)
        if q.endswith("XMLParser") and q.startswith("lxml"):
            new = _set_keyword(call, "resolve_entities", cst.Name("False"))
            new = _set_keyword(new, "no_network", cst.Name("True"))
            ctx.replace(call, new)
            changed += 1
    if changed:
        return "external entity resolution turned off in the parser", []
    for call in calls:
        q = ctx.qualname(call.func)
        if q in _DEFUSED:
            target = _DEFUSED[q]
            ctx.replace(call, call.with_changes(func=_expr(target)))
            ctx.imports.add(target.rsplit(".", 1)[0])
            return f"{target} (entities and external references refused)", ["needs the defusedxml package"]
        if q in ("lxml.etree.parse", "lxml.etree.fromstring", "lxml.etree.XML"):
            parser = _expr("lxml.etree.XMLParser(resolve_entities=False, no_network=True)")
            ctx.replace(call, _set_keyword(call, "parser", parser))
            ctx.imports.add("lxml.etree")
            return "lxml parser with resolve_entities=False, no_network=True", []
    raise _NoFix(f"no XML parser of a known kind at line {line}")


def _xpath(ctx: _Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return (
            (isinstance(c.func, cst.Attribute) and c.func.attr.value == "xpath")
            or q
            in ("lxml.etree.XPath", "elementpath.select", "elementpath.iter_select", "elementpath.Selector")
            or (
                isinstance(c.func, cst.Attribute)
                and c.func.attr.value in ("findall", "find", "iterfind", "findtext")
            )
        )

    q, call = _find(ctx, line, is_sink, "XPath query")
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
        "findall",
        "find",
        "iterfind",
        "findtext",
    ):
        raise _NoFix(
            "ElementTree paths have no variables and no way to escape a quote",
            ("evaluate the query with lxml or elementpath and pass the value as an XPath variable",),
        )
    index = 1 if q.startswith("elementpath.select") or q.startswith("elementpath.iter_select") else 0
    arg = _positional(call, index, ("_path", "path"))
    if arg is None:
        raise _NoFix("the XPath expression is not passed where expected")
    query, assign = ctx.definition(arg.value, call, builders=True)
    parts = _parts(query)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise _NoFix("the XPath expression is not built from strings and values here")
    names: list[str] = []

    def placeholder(i: int) -> str:
        names.append(f"p{i}")
        return f"$p{i}"

    text, params = _parameterise(parts, placeholder)
    literal = _str_literal(text, '"' if "'" in text else "'")
    if assign is not None:
        ctx.replace(assign.value, literal)
        new_call = call
    else:
        new_call = _replace_arg(call, arg, literal)
    params = [_as_str(p) for p in params]
    if q.startswith("elementpath."):
        mapping = cst.Dict([cst.DictElement(_str_literal(n), p) for n, p in zip(names, params, strict=True)])
        ctx.replace(call, _set_keyword(new_call, "variables", mapping))
    elif q == "lxml.etree.XPath":
        statement = ctx.parents.get(call)
        if not isinstance(statement, cst.Assign) or not isinstance(statement.targets[0].target, cst.Name):
            raise _NoFix("the compiled XPath is not kept in a variable, so its evaluation cannot be found")
        compiled = statement.targets[0].target.value
        uses = [
            c
            for c in ctx.calls
            if isinstance(c.func, cst.Name)
            and c.func.value == compiled
            and ctx.line(c) > ctx.line(call)
            and ctx.function_of(c) is ctx.function_of(call)
        ]
        if not uses:
            raise _NoFix("the compiled XPath is never evaluated in this function")
        ctx.replace(call, new_call)
        for use in uses:
            new_use = use
            for n, p in zip(names, params, strict=True):
                new_use = _set_keyword(new_use, n, p)
            ctx.replace(use, new_use)
    else:
        for n, p in zip(names, params, strict=True):
            new_call = _set_keyword(new_call, n, p)
        ctx.replace(call, new_call)
    return f"XPath variables (${', $'.join(names)}) instead of text built from input", []


def _ldap(ctx: _Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return isinstance(c.func, cst.Attribute) and c.func.attr.value in (
            "search",
            "search_s",
            "search_st",
            "search_ext",
            "search_ext_s",
        )

    q, call = _find(ctx, line, is_sink, "LDAP search")
    index = 1 if q.endswith(".search") else 2
    arg = _positional(call, index, ("search_filter", "filterstr"))
    if arg is None:
        raise _NoFix("the filter is not passed where expected")
    value, _assign = ctx.definition(arg.value, call)
    python_ldap = "ldap3" not in ctx.source
    func = "ldap.filter.escape_filter_chars" if python_ldap else "ldap3.utils.conv.escape_filter_chars"
    wrapped = _wrap_interpolations(value, _wrapper(func, skip_words=("escape",)))
    if wrapped is None:
        raise _NoFix("the filter has no interpolated value to escape")
    ctx.replace(value, wrapped)
    ctx.imports.add(func.rsplit(".", 1)[0])
    return f"filter values escaped with {func}", []


# ------------------------------------------------------------------ web: XSS, redirects, paths, templates


_XSS_SINKS = ("make_response", "Response", "HttpResponse", "HTMLResponse", "Markup", "mark_safe", "write")


def _xss(ctx: _Context, line: int) -> tuple[str, list[str]]:
    escape = _wrapper(
        "html.escape", skip_words=("escape", "clean", "bleach", "sanitize", "render_template", "url_for")
    )
    candidates: list[cst.BaseExpression] = []
    anchor: cst.CSTNode | None = None
    for node in ctx.positions:
        if isinstance(node, cst.Return) and node.value is not None and ctx.line(node) == line:
            candidates.append(node.value)
            anchor = node
    for call in ctx.calls_at(line):
        name = _code(call.func).rsplit(".", 1)[-1]
        if name in _XSS_SINKS and call.args:
            candidates.append(call.args[0].value)
            anchor = anchor or call
    for node in ctx.positions:
        if isinstance(node, cst.Assign | cst.AugAssign) and ctx.line(node) == line:
            candidates.append(node.value)
            anchor = anchor or node
    if anchor is None:
        raise _NoFix(f"no response or markup at line {line}")
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
                wrapped = _wrap_interpolations(value, escape)
                if wrapped is not None:
                    ctx.replace(value, wrapped)
                    fixed += 1
        else:
            wrapped = _wrap_interpolations(cand, escape)
            if wrapped is not None:
                ctx.replace(cand, wrapped)
                fixed += 1
    if not fixed:
        raise _NoFix("no unescaped value found in the response built here")
    ctx.imports.add("html")
    return "values escaped with html.escape before they reach the response", []


def _redirect(ctx: _Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        last = q.rsplit(".", 1)[-1]
        return last in (
            "redirect",
            "HttpResponseRedirect",
            "HttpResponsePermanentRedirect",
            "RedirectResponse",
            "HTTPFound",
        )

    _q, call = _find(ctx, line, is_sink, "redirect")
    arg = _positional(call, 0, ("location", "to", "url", "redirect_to"))
    if arg is None:
        raise _NoFix("the redirect target is not passed as the first argument")
    if isinstance(arg.value, cst.SimpleString):
        raise _NoFix("the redirect target is a constant")
    value = _code(arg.value)
    local = _expr(f'"/" + urllib.parse.quote(urllib.parse.urlsplit(str({value})).path.lstrip("/\\\\"))')
    ctx.replace(call, _replace_arg(call, arg, local))
    ctx.imports.add("urllib.parse")
    return "redirect contained to a path of this site (scheme and host dropped, path quoted)", [
        "the query string of the target is dropped; list allowed hosts if external redirects are intended"
    ]


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
        return _last_component(node.right) or (None if _stringish(node.right) else node.right)
    if isinstance(node, cst.Call):
        q = _code(node.func)
        if q.endswith("join") or q.endswith("Path") or q.endswith("joinpath"):
            values = [a.value for a in node.args if not isinstance(a.value, cst.SimpleString)]
            return values[-1] if values else None
        return None
    if isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
        return node
    return None


def _path(ctx: _Context, line: int) -> tuple[str, list[str]]:
    def is_sink(q: str, c: cst.Call) -> bool:
        return q in _PATH_CALLS or (isinstance(c.func, cst.Attribute) and c.func.attr.value in _PATH_METHODS)

    q, call = _find(ctx, line, is_sink, "file access")
    if q not in _PATH_CALLS and isinstance(call.func, cst.Attribute):
        subject: cst.BaseExpression = call.func.value
    else:
        arg = _positional(call, 0, ("file", "filename", "path", "name"))
        if arg is None:
            raise _NoFix("the path is not passed as the first argument")
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
    if component is None or (isinstance(component, cst.Call) and "basename" in _code(component.func)):
        raise _NoFix("no user-chosen part found in the path")
    ctx.replace(component, _call("os.path.basename", component))
    ctx.imports.add("os")
    return "file name reduced with os.path.basename, so it stays inside the intended folder", [
        "names with folders in them are reduced to their last part"
    ]


def _ssti(ctx: _Context, line: int) -> tuple[str, list[str]]:
    _q, call = _find(
        ctx,
        line,
        lambda q, c: q.rsplit(".", 1)[-1] in ("render_template_string", "from_string", "Template"),
        "template",
    )
    arg = _positional(call, 0, ("source",))
    if arg is None:
        raise _NoFix("the template is not passed as the first argument")
    value, assign = ctx.definition(arg.value, call, builders=True)
    parts = _parts(value)
    if parts is None or not any(k == "expr" for k, _ in parts):
        raise _NoFix(
            "the whole template comes from the input",
            ("keep templates in files and pass user data as context variables",),
        )
    text = ""
    context: list[tuple[str, cst.BaseExpression]] = []
    for kind, piece in parts:
        if kind == "lit":
            assert isinstance(piece, str)
            text += piece
        else:
            assert not isinstance(piece, str)
            name = f"v{len(context)}"
            context.append((name, piece))
            text += "{{ " + name + " }}"
    literal = _str_literal(text)
    if assign is not None:
        ctx.replace(assign.value, literal)
        new = call
    else:
        new = _replace_arg(call, arg, literal)
    if _code(call.func).endswith("render_template_string"):
        for name, piece in context:
            new = _set_keyword(new, name, piece)
        ctx.replace(call, new)
    else:
        raise _NoFix("the template object is rendered elsewhere; pass the values to render() by hand")
    return "user data passed as template context instead of template text", []


# ------------------------------------------------------------------ trust boundary (session)


SESSION_KEY_PATTERN = r"[A-Za-z0-9_.\-]{1,64}"
"""What a session key made from input may look like: a short identifier."""
SESSION_VALUE_PATTERN = r"[\w .,@:+=/\-]{0,256}"
"""What a session value made from input may look like: short text without quotes, markup or
control characters (``\\w`` is Unicode-aware, so names in any script pass)."""

_SESSION_STORES = ("flask.session", "request.session", "flask.request.session")


def _is_session(ctx: _Context, node: cst.BaseExpression) -> bool:
    q = ctx.qualname(node)
    return q in _SESSION_STORES or q.endswith(".request.session") or _code(node) == "request.session"


def _constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.SimpleString | cst.Integer | cst.Float):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _constant(node.left) and _constant(node.right)
    return isinstance(node, cst.Name) and node.value in ("True", "False", "None")


def _trust(ctx: _Context, line: int) -> tuple[str, list[str]]:
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
        raise _NoFix(
            f"no session store of the known kind (flask.session[…] = …, request.session[…] = …) at line {line}",
            (
                "validate the value against an allow-list before storing it",
                "store a server-chosen identifier instead",
            ),
        )
    where = ctx.block_of(store)
    if where is None or len(where[0].body) != 1:
        raise _NoFix("the session store shares its line with other statements; split it first")
    statement, block = where
    if id(statement) in ctx.before:
        return "session key and value validated against an allow-list before they are stored", []
    target = store.targets[0].target
    assert isinstance(target, cst.Subscript)
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        raise _NoFix("the session key is a slice or a tuple")
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
            new_statements.append(cst.parse_statement(f"{temp} = {_code(node)}\n", config=config))
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
        raise _NoFix(f"the session store at line {line} stores constants only")
    ctx.before[id(statement)] = new_statements
    ctx.imports.add("re")
    what = " and ".join(reversed(checked))
    return (
        f"session {what} validated against an allow-list before {'they are' if len(checked) > 1 else 'it is'} stored",
        [
            "input outside the allow-list now raises ValueError; widen the pattern to the field's real format if needed"
        ],
    )


_HANDLERS: dict[str, tuple[Handler, ...]] = {
    "CWE-501": (_trust,),
    "CWE-89": (_sql,),
    "CWE-564": (_sql,),
    "CWE-78": (_cmd,),
    "CWE-77": (_cmd,),
    "CWE-502": (_deser,),
    "CWE-94": (_codeinj,),
    "CWE-95": (_codeinj,),
    "CWE-328": (_hash,),
    "CWE-327": (_hash,),
    "CWE-916": (_hash,),
    "CWE-330": (_random,),
    "CWE-338": (_random,),
    "CWE-614": (_cookie,),
    "CWE-1004": (_cookie,),
    "CWE-1275": (_cookie,),
    "CWE-611": (_xxe,),
    "CWE-643": (_xpath,),
    "CWE-90": (_ldap,),
    "CWE-79": (_xss,),
    "CWE-601": (_redirect,),
    "CWE-22": (_path,),
    "CWE-23": (_path,),
    "CWE-1336": (_ssti,),
    "CWE-295": (_tls,),
    "CWE-489": (_debug,),
}
"""CWE → handlers, tried in order at the finding's line, then at its trace lines."""


def supported_cwes() -> tuple[str, ...]:
    """The CWEs that have a rule-based rewrite."""
    return tuple(sorted(_HANDLERS))
