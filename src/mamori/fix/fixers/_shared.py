"""What every fixer shares: the target and outcome values, the per-file libcst context, and
helpers that read and build strings, calls and arguments.

Why one module: every fixer needs the same view of a file (positions, parents, import aliases,
a local variable followed back to its assignment) and the same way of reading a string built
from pieces (f-strings, ``%``, ``.format``, ``+``, ``"".join``). Its size (~750 lines) is that
shared machinery, not any one fix.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
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
    consequences: tuple[str, ...] = ()
    """Behaviour the rewrite is known to change (``the cookie is no longer sent over plain
    HTTP``): such a fix is never called verified, whatever the tests say."""


class Consequence(str):
    """A note a fixer returns that predicts a behaviour change a user would notice."""

    __slots__ = ()


class NoFix(Exception):
    """A handler cannot place a rewrite; the message says why."""

    def __init__(self, why: str, options: Sequence[str] = ()) -> None:
        super().__init__(why)
        self.why = why
        self.options = tuple(options)


class Replacer(cst.CSTTransformer):
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
            definitions = (cst.FunctionDef, cst.ClassDef)
            gap = (cst.EmptyLine(), cst.EmptyLine()) if isinstance(new, definitions) else ()
            return cst.FlattenSentinel([first, *inserted[1:], new.with_changes(leading_lines=gap)])
        return new


# ------------------------------------------------------------------ small CST helpers


def source_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def parse_expr(source: str) -> cst.BaseExpression:
    return cst.parse_expression(source)


def make_call(func: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=parse_expr(func), args=[cst.Arg(a) for a in args])


def str_literal(value: str, prefer: str = '"') -> cst.SimpleString:
    if prefer not in value and "\\" not in value and "\n" not in value and "\r" not in value:
        return cst.SimpleString(prefer + value + prefer)
    return cst.SimpleString(repr(value))


def is_str_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "str"


def as_str(node: cst.BaseExpression) -> cst.BaseExpression:
    return node if is_str_call(node) or isinstance(node, cst.SimpleString) else make_call("str", node)


def literal_value(node: cst.SimpleString) -> str | None:
    try:
        value = ast.literal_eval(node.value)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


Part = tuple[str, "str | cst.BaseExpression"]
"""A piece of a string being built: ``("lit", text)`` or ``("expr", node)``."""


def string_parts(node: cst.BaseExpression) -> list[Part] | None:
    """The literal and interpolated pieces of a string expression, or None if it is not one."""
    if isinstance(node, cst.SimpleString):
        value = literal_value(node)
        return None if value is None else [("lit", value)]
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_parts(node.left), string_parts(node.right)
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
        left, right = string_parts(node.left), string_parts(node.right)
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
            template = literal_value(base)
            if template is not None:
                return format_parts(template, node.args)
    joined = join_items(node)
    if joined is not None:
        sep, items = joined
        out_join: list[Part] = []
        for i, item in enumerate(items):
            if i and sep:
                out_join.append(("lit", sep))
            out_join.extend(string_parts(item) or [("expr", item)])
        return out_join
    if (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Modulo)
        and isinstance(node.left, cst.SimpleString)
    ):
        template = literal_value(node.left)
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


def join_items(node: cst.BaseExpression) -> tuple[str, list[cst.BaseExpression]] | None:
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
    sep = literal_value(node.func.value)
    elements = node.args[0].value.elements
    if sep is None or any(isinstance(e, cst.StarredElement) for e in elements):
        return None
    return sep, [e.value for e in elements]


def format_parts(template: str, args: Sequence[cst.Arg]) -> list[Part] | None:
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
                out.append(("expr", parse_expr(f"({source_of(base)}){sub}")))
            except cst.ParserSyntaxError:
                return None
        else:
            out.append(("expr", base))
    return out


def wrap_interpolations(
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
        left = wrap_interpolations(node.left, wrap)
        right = wrap_interpolations(node.right, wrap)
        if left is None and right is None:
            return None
        return node.with_changes(left=left or node.left, right=right or node.right)
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left = wrap_interpolations(node.left, wrap)
        right = wrap_interpolations(node.right, wrap)
        result = node.with_changes(
            left=left if left is not None else (node.left if is_stringish(node.left) else w(node.left)),
            right=right if right is not None else (node.right if is_stringish(node.right) else w(node.right)),
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
        and is_stringish(node.left)
    ):
        if isinstance(node.right, cst.Tuple):
            right2: cst.BaseExpression = node.right.with_changes(
                elements=[e.with_changes(value=w(e.value)) for e in node.right.elements]
            )
        else:
            right2 = w(node.right)
        result = node.with_changes(right=right2)
    elif join_items(node) is not None:
        assert isinstance(node, cst.Call)
        seq = node.args[0].value
        assert isinstance(seq, cst.List | cst.Tuple)
        elements = []
        for e in seq.elements:
            inner = wrap_interpolations(e.value, wrap) if is_stringish(e.value) else None
            if inner is not None:
                changed = True
                elements.append(e.with_changes(value=inner))
            else:
                elements.append(e if is_stringish(e.value) else e.with_changes(value=w(e.value)))
        result = node.with_changes(
            args=[node.args[0].with_changes(value=seq.with_changes(elements=elements))]
        )
    elif isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
        result = w(node)
    else:
        return None
    return result if changed else None


def is_stringish(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


def wrap_with(
    func: str, *, skip_words: tuple[str, ...], stringify: bool = True
) -> Callable[[cst.BaseExpression], cst.BaseExpression | None]:
    def wrap(value: cst.BaseExpression) -> cst.BaseExpression | None:
        if isinstance(value, cst.SimpleString | cst.Integer | cst.Float):
            return None
        if isinstance(value, cst.Call):
            name = source_of(value.func).lower()
            if any(word in name for word in skip_words):
                return None
        return make_call(func, as_str(value) if stringify else value)

    return wrap


# ------------------------------------------------------------------ the per-file context


_FORMAT_DRIVERS = re.compile(
    r"^\s*(?:import|from)\s+(psycopg2?|pymysql|MySQLdb|mysql\.connector|pgdb|pg8000)\b", re.M
)


def guess_paramstyle(text: str) -> str:
    """``format`` when the code imports a ``%s`` driver (psycopg, PyMySQL …), else ``qmark`` (sqlite3)."""
    return "format" if _FORMAT_DRIVERS.search(text) else "qmark"


class Context:
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
        self.owner = ""
        """The finding whose fix is being placed (two fixes may not overlap)."""
        self.spans: dict[int, tuple[str, tuple[int, int], tuple[int, int]]] = {}
        self.aliases = self._aliases()
        self.calls: list[cst.Call] = [n for n in self.positions if isinstance(n, cst.Call)]
        self.source = self.module.code

    # -- structure

    def _aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for node in self.positions:
            if isinstance(node, cst.Import):
                for alias in node.names:
                    full = source_of(alias.name)
                    if alias.asname is not None:
                        aliases[source_of(alias.asname.name)] = full
            elif (
                isinstance(node, cst.ImportFrom)
                and node.module is not None
                and not isinstance(node.names, cst.ImportStar)
            ):
                mod = source_of(node.module)
                for alias in node.names:
                    local = source_of(alias.asname.name) if alias.asname else source_of(alias.name)
                    aliases[local] = f"{mod}.{source_of(alias.name)}"
        return aliases

    def qualname(self, func: cst.BaseExpression) -> str:
        text = source_of(func)
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
            if (
                len(init.args) != 1
                or init.args[0].keyword is not None
                or not is_stringish(init.args[0].value)
            ):
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

    def add_helper(self, name: str, source: str, at: cst.CSTNode) -> None:
        """Put the module-level function ``name`` (its ``source``) in front of the top-level
        statement holding ``at``, once per file."""
        for statements in self.before.values():
            if any(isinstance(s, cst.FunctionDef) and s.name.value == name for s in statements):
                return
        top: cst.CSTNode = at
        while top in self.parents and not isinstance(self.parents[top], cst.Module):
            top = self.parents[top]
        helper = cst.parse_module(source.rstrip("\n") + "\n\n\n", config=self.module.config_for_parsing)
        self.before[id(top)] = [*self.before.get(id(top), []), *helper.body]

    def replace(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        """Replace ``old`` (a node of the original tree) by ``new``.

        Two fixes never rewrite overlapping code: an escape of one fix inside the text another
        fix turned into a parameterised query would undo it, so the second is refused."""
        pos = self.positions.get(old)
        if pos is not None:
            start, end = (pos.start.line, pos.start.column), (pos.end.line, pos.end.column)
            for owner, s, e in self.spans.values():
                if owner != self.owner and s < end and start < e:
                    raise NoFix(
                        f"another fix already rewrites the code at line {s[0]}; "
                        "apply that one first, then run mamori fix again"
                    )
            self.spans[id(old)] = (self.owner, start, end)
        self.replacements[id(old)] = new


Handler = Callable[[Context, int], tuple[str, list[str]]]


def find_call(
    ctx: Context, line: int, pred: Callable[[str, cst.Call], bool], what: str
) -> tuple[str, cst.Call]:
    for call in ctx.calls_at(line):
        q = ctx.qualname(call.func)
        if pred(q, call):
            return q, call
    raise NoFix(f"no {what} at line {line}")


def positional_arg(call: cst.Call, index: int, keyword: tuple[str, ...] = ()) -> cst.Arg | None:
    pos = [a for a in call.args if a.keyword is None and not a.star]
    if index < len(pos):
        return pos[index]
    for a in call.args:
        if a.keyword is not None and a.keyword.value in keyword:
            return a
    return None


def set_keyword(call: cst.Call, name: str, value: cst.BaseExpression, *, overwrite: bool = True) -> cst.Call:
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
            if isinstance(trailing, cst.Comma) and "\n" in source_of(trailing)
            else new_arg
        )
    args.append(new_arg)
    return call.with_changes(args=args)


def drop_keyword(call: cst.Call, name: str) -> cst.Call:
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


def replace_arg(call: cst.Call, arg: cst.Arg, value: cst.BaseExpression) -> cst.Call:
    return call.with_changes(args=[a.with_changes(value=value) if a is arg else a for a in call.args])


# ------------------------------------------------------------------ parameterising (SQL, XPath)


_QUOTES = ("'", '"')


def parameterise(
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
            bound: cst.BaseExpression = as_str(value)
            if wild_before or wild_after:
                bound = parse_expr(
                    f"{wild_before!r} + {source_of(as_str(value))} + {wild_after!r}".replace(
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


def param_node(
    node: cst.BaseExpression, placeholder: Callable[[int], str], params: list[cst.BaseExpression]
) -> cst.BaseExpression | None:
    """``node`` as a plain string (or a concatenation of strings in the original layout) with
    placeholders; the values to bind are appended to ``params``. None when it is not a string."""
    if isinstance(node, cst.ConcatenatedString):
        left = param_node(node.left, placeholder, params)
        right = param_node(node.right, placeholder, params) if left is not None else None
        if left is None or right is None:
            return None
        return node.with_changes(left=left, right=right)
    parts = string_parts(node)
    if parts is None:
        return None
    offset = len(params)
    text, found = parameterise(parts, lambda i: placeholder(offset + i))
    params.extend(found)
    quote = (
        node.end
        if isinstance(node, cst.FormattedString)
        else (node.quote if isinstance(node, cst.SimpleString) else '"')
    )
    new = str_literal(text, quote if quote in ("'", '"') else '"')
    return (
        new.with_changes(lpar=node.lpar, rpar=node.rpar)
        if isinstance(node, cst.SimpleString | cst.FormattedString)
        else new
    )
