"""Shared data of the taint engine: budgets, limits, the records it keeps (modules, function
definitions, summaries, raw findings), :class:`FrameBase` (the state of one abstract run and
the interface its parts share) and small helpers over :mod:`ast`."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mamori.analysis._models import SinkSpec
from mamori.analysis._values import (
    EMPTY,
    Taint,
    Val,
)
from mamori.model import TraceStep

if TYPE_CHECKING:
    from mamori.analysis.engine.project import Project


Env = dict[str, Val]


MAX_DEPTH = 8


MAX_CONTEXTS = 6


MAX_STR = 4096


ENTRY_BUDGET = 200_000
"""Statements and calls one entry point (with every summary it builds) may run; past it the
entry is analysed again without following calls into the project (see :class:`Budget`)."""


MODULE_BUDGET = 100_000
"""Statements and calls the evaluation of one module's top level may run."""


class BudgetExhausted(BaseException):
    """An analysis ran out of its budget (a ``BaseException`` so no handler swallows it)."""


@dataclass(slots=True)
class Budget:
    """The work left to the analysis under way, so that no input can make the engine hang.

    Every statement and call costs one unit. An entry point that exhausts its budget is run
    again without building new summaries (calls into the project whose summary is not at hand
    carry their arguments' flows to the result); the entry is recorded in
    :attr:`Project.incomplete`.
    """

    left: int = ENTRY_BUDGET


_BUILTINS = frozenset(__import__("builtins").__dict__) | {"raw_input", "execfile", "unicode", "basestring"}


_CONST_TYPES = (str, bytes, int, float, bool, type(None), tuple, frozenset)


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A flow found by the engine, before it becomes a :class:`mamori.model.Finding`."""

    rule: str
    path: str
    line: int
    column: int
    trace: tuple[TraceStep, ...]
    sink_text: str
    source_note: str
    source: str = ""
    """The source model name the flow started at (``os.environ``)."""


@dataclass(slots=True)
class ModuleInfo:
    """One module of the project: its name, file and (lazily) its tree and global values."""

    name: str
    relpath: str
    is_package: bool
    tree: ast.Module | None = None
    loaded: bool = False
    globals: Env = field(default_factory=dict)
    evaluating: bool = False
    reads: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    """(modules, other files) its top level read, directly or through what it called."""


@dataclass(slots=True)
class Summary:
    """What one call of a project function does, in terms of its parameters' placeholders."""

    ret: Val
    receiver: Val | None
    hits: list[tuple[Taint, str, TraceStep, str]]
    """(placeholder flow, rule id, sink step, sink text)."""
    reads: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    """(modules, other files) read while it was built, directly or through what it called: a
    caller that uses the summary read them too (the cache's dependencies)."""


@dataclass(slots=True)
class FuncDef:
    """A project function or class known to the engine."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
    module: str
    closure: Env | None = None
    cls: str = ""
    """For methods: ``py:`` + qualified name of the class."""


def _all_args(a: ast.arguments) -> list[ast.arg]:
    out = [*a.posonlyargs, *a.args]
    if a.vararg:
        out.append(a.vararg)
    out.extend(a.kwonlyargs)
    if a.kwarg:
        out.append(a.kwarg)
    return out


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def _is_classmethod(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list)


def _annotation_name(node: ast.expr | None) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _annotation_name(node.value)
        return inner + "." + node.attr if inner else node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


_PINNED_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\\s{}%@]+[/?#]")
HOST_PINNED = frozenset({"ssrf", "redirect"})
"""What a URL whose scheme and host are fixed text cannot be turned into: a request to, or a
redirect towards, a host the attacker chose (the rest of the URL may still be theirs)."""


def pins_host(prefix: object) -> bool:
    """Whether text starting with ``prefix`` is a URL whose scheme and host are fixed: the
    constant reaches past the host (``https://api.example.org/…``; ``https://api.example.org``
    alone does not, ``@evil.example`` could follow)."""
    return isinstance(prefix, str) and _PINNED_HOST.match(prefix) is not None


def pin_host(taint: frozenset[Taint]) -> frozenset[Taint]:
    """``taint`` built into a URL after its fixed scheme and host."""
    return frozenset(t.clear(HOST_PINNED) for t in taint)


def _safe_const(v: object) -> bool:
    if isinstance(v, (str, bytes)):
        return len(v) <= MAX_STR
    return isinstance(v, _CONST_TYPES)


def _sink_text(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "…"


def _truth(v: object) -> bool:
    try:
        return bool(v)
    except Exception:
        return True


class FrameBase:
    """The state of the abstract run of one function body (or of a module's top level), and
    the methods the engine's parts (statements, expressions, calls, sinks, summaries,
    conditions, framework sources; each a mixin of :class:`~mamori.analysis.engine.frame.Frame`)
    call on each other."""

    p: Project
    m: ModuleInfo
    qual: str
    env: Env
    closure: Env | None
    module_level: bool
    depth: int
    ret: Val | None
    hits: list[tuple[Taint, str, TraceStep, str]]
    _hit_keys: set[tuple[Taint, str, str, int]]
    loop_exits: list[list[Env]]
    derived: dict[str, frozenset[str]]
    is_view: bool
    cls_ctx: str
    globals_declared: set[str]
    sunk: set[Taint]
    """Flows the sink call under evaluation reported (its result does not carry them)."""
    _line = 0
    """The line of the call under evaluation (sources read in it are reported there)."""

    if TYPE_CHECKING:

        def child(
            self,
            module: ModuleInfo,
            qual: str,
            env: Env,
            *,
            closure: Env | None = None,
            module_level: bool = False,
            depth: int = 0,
        ) -> FrameBase: ...

        def run(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None: ...

        def exec_block(self, stmts: list[ast.stmt]) -> Env | None: ...

        def _closure(self) -> Env: ...

        def assign(self, target: ast.expr, v: Val, s: ast.stmt | ast.expr) -> None: ...

        def store_path(self, node: ast.expr, v: Val) -> None: ...

        def _validated(self, store: str, target: ast.Subscript) -> bool: ...

        def eval(self, node: ast.expr | None) -> Val: ...

        def concat(self, parts: list[Val]) -> Val: ...

        def binop(self, op: ast.operator, a: Val, b: Val, node: ast.AST) -> Val: ...

        def _container_const(self, v: Val) -> object: ...

        def _methods_by_prefix(self, obj: Val, prefix: str) -> Val | None: ...

        def any_item(self, v: Val, extra: frozenset[Taint] = EMPTY) -> Val: ...

        def element_of(self, v: Val) -> Val: ...

        def attribute(self, base: Val, attr: str, node: ast.AST | None) -> Val: ...

        def source_taint(self, name: str, text: str, line: int) -> Taint: ...

        def client_key(self, holder: str, key: object) -> bool: ...

        def request_variable(self, holder: str, key: object) -> Val | None: ...

        def _static_route(self) -> bool: ...

        def _lineage(self, cls: str) -> list[str]: ...

        def _lib_base(self, cls: str, seen: frozenset[str] = frozenset()) -> str: ...

        def class_attr(self, cls: str, attr: str, seen: frozenset[str] = frozenset()) -> Val | None: ...

        def call(self, node: ast.Call) -> Val: ...

        def summarise(
            self, ref: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call | None
        ) -> tuple[Val, Val | None] | None: ...

        def emit(self, t: Taint, rule: str, step: TraceStep, text: str) -> None: ...

        def check_call_sinks(
            self,
            specs: tuple[SinkSpec, ...],
            name: str,
            args: list[Val],
            kwargs: dict[str, Val],
            receiver: Val | None,
            node: ast.Call,
        ) -> None: ...

        def check_sink(
            self,
            name: str,
            vals: tuple[Val, ...],
            kwargs: dict[str, Val],
            spec: SinkSpec | None,
            at: ast.AST,
            text_node: ast.AST,
            *,
            rule_direct: bool = False,
            elements: tuple[int, ...] = (),
        ) -> bool: ...

        def refine(self, test: ast.expr) -> tuple[Env, Env]: ...

        def check_template(
            self, ref: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call
        ) -> None: ...
