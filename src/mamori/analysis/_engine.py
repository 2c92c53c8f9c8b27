"""The interprocedural taint engine: abstract interpretation of Python over :mod:`ast`.

Every function of a module that may touch untrusted input is run abstractly over
:class:`~mamori.analysis._values.Val` values: assignments, containers, attributes, string
building, branches (with constant folding: a branch whose condition is known never runs),
loops, ``try``/``with``, comprehensions and ``match``. A call of the project's own code is
summarised once per *shape* of its arguments (constants, referenced objects, instance fields),
with placeholder taints for the parameters; the summary says what the function returns, what
it does to its receiver and which parameters reach which sinks. A caller substitutes its own
flows into the summary, so the cost stays near linear in the size of the project while flows
cross functions, methods, classes and modules.

Cost stays bounded on any input: a flow's identity is its source site and the sinks it was
cleared for, not its path (so branches and loops never multiply flows); a function has at
most ``MAX_CONTEXTS`` precise summaries before calls share a coarse one; and every entry point
runs within a work budget (:class:`Budget`): past it, the entry is run again using only the
summaries at hand, and the cut is reported so that no input can make a scan hang.

Calls through values chosen at run time reach every callable the value may hold: a dispatch
table looked up with a key known only at run time (``self.routes.get((method, path))``), a
handler picked by a branch, ``getattr(self, "do_" + name)``; such a value is a set of
alternatives (:func:`~mamori.analysis._values.alternatives`) and a call of it is a call of each.
A method analysed as an entry point sees ``self`` as its class's ``__init__`` leaves it.
Functions that follow a server's calling convention (WSGI's ``environ, start_response``)
receive request data in the parameter the convention names.

Conditions sanitise too: after ``if x not in ALLOWED: return`` or a containment check of a
resolved path, ``x`` is cleared for the sinks such a check protects.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mamori.analysis._models import MarkSpec, Models, SinkSpec
from mamori.analysis._parse import FSTRING_CALL
from mamori.analysis._values import (
    ALL,
    ALTS,
    CLEAN,
    EMPTY,
    NOCONST,
    Taint,
    Val,
    alternatives,
    callees,
    from_taint,
    join,
    join_envs,
    with_taint,
)
from mamori.model import TraceStep

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

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_CONST_TYPES = (str, bytes, int, float, bool, type(None), tuple, frozenset)

# Characters whose absence a check can establish, and the sinks that absence protects.
_META: dict[str, frozenset[str]] = {
    "'": frozenset({"sql", "xpath"}),
    '"': frozenset({"sql", "xpath"}),
    "..": frozenset({"path"}),
    # joined under a fixed folder ("base/" + x), a name escapes it only through "../"
    "../": frozenset({"path"}),
    "/": frozenset({"path"}),
    "\\": frozenset({"path"}),
    "<": frozenset({"xss"}),
    ">": frozenset({"xss"}),
    ";": frozenset({"cmd", "sql"}),
    "|": frozenset({"cmd"}),
    "&": frozenset({"cmd"}),
    "`": frozenset({"cmd"}),
    "$": frozenset({"cmd"}),
    "\n": frozenset({"header", "log"}),
    "\r": frozenset({"header", "log"}),
    "(": frozenset({"ldap"}),
    "*": frozenset({"ldap"}),
}
_URL_BUILDERS = frozenset(
    {"urllib.parse.urlunsplit", "urllib.parse.urlunparse", "urlparse.urlunsplit", "urlparse.urlunparse"}
)
_DESTINATION = frozenset({"redirect"})
"""Sink classes a URL's scheme and host decide (an open redirect needs another host)."""
_VALIDATORS = frozenset(
    {"isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha", "isidentifier", "isascii_digits"}
)
_HOST_ATTRS = frozenset({"netloc", "hostname", "host", "scheme", "port"})
_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "add",
        "update",
        "setdefault",
        "set",
        "write",
        "writelines",
        "put",
        "appendleft",
        "extendleft",
        "push",
        "add_section",
    }
)


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


@dataclass(slots=True)
class Summary:
    """What one call of a project function does, in terms of its parameters' placeholders."""

    ret: Val
    receiver: Val | None
    hits: list[tuple[Taint, str, TraceStep, str]]
    """(placeholder flow, rule id, sink step, sink text)."""


@dataclass(slots=True)
class FuncDef:
    """A project function or class known to the engine."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
    module: str
    closure: Env | None = None
    cls: str = ""
    """For methods: ``py:`` + qualified name of the class."""


class Project:
    """Every module of the scanned project and the state shared by all analyses."""

    def __init__(
        self,
        models: Models,
        modules: dict[str, ModuleInfo],
        load: Callable[[ModuleInfo], ast.Module | None],
    ) -> None:
        self.models = models
        self.modules = modules
        self._load = load
        self.defs: dict[str, FuncDef] = {}
        self.class_attrs: dict[str, Env] = {}
        self.class_bases: dict[str, tuple[Val, ...]] = {}
        self.memo: dict[tuple[Any, ...], Summary] = {}
        self.contexts: dict[str, int] = {}
        self.active: set[str] = set()
        self.findings: dict[tuple[Any, ...], RawFinding] = {}
        self.budget = Budget(ENTRY_BUDGET)
        self.in_entry = False
        self.intra = False
        """No new summaries are built (the fallback after an exhausted budget): calls into the
        project use the summaries at hand or carry their arguments' flows to the result."""
        self.incomplete: list[tuple[str, str]] = []
        """(module path, what) of analyses cut short by their budget."""
        self.touched: set[str] = set()
        """Modules read while analysing the current entry module (for the cache)."""
        self.by_suffix: dict[str, str] = {}
        for name in list(modules):
            parts = name.split(".")
            for i in range(1, len(parts)):
                prefix = ".".join(parts[:i])
                if prefix not in modules:  # a namespace package (no __init__.py)
                    modules[prefix] = ModuleInfo(prefix, "", True, loaded=True)
        # ``src/app/x.py`` is imported as ``app.x``: a name may drop leading folders that are
        # no packages (a folder put on sys.path), never part of a package (``import tempfile``
        # is the standard library's, not ``lib/ansible/modules/tempfile.py``)
        for name in modules:
            parts = name.split(".")
            for i in range(1, len(parts)):
                if modules[".".join(parts[:i])].relpath:
                    break
                self.by_suffix.setdefault(".".join(parts[i:]), name)
        self._sink_index = models.sinks
        self._serves: dict[str, bool] = {}
        self.modelled = frozenset(models.sinks) | frozenset(models.sanitizers) | models.clean_calls
        """Qualified names of modelled APIs (a project function of that name is modelled)."""
        self._names: dict[ast.AST, frozenset[str]] = {}
        self._kinds: list[tuple[str, str]] = [
            (prefix, kind) for kind, prefixes in models.kinds.items() for prefix in prefixes
        ]

    def names_in(self, node: ast.expr) -> frozenset[str]:
        """The variable names an expression reads (memoised per node)."""
        got = self._names.get(node)
        if got is None:
            got = frozenset(n.id for n in walk(node) if isinstance(n, ast.Name))
            self._names[node] = got
        return got

    # -- modules -------------------------------------------------------------------------
    def find_module(self, dotted: str) -> ModuleInfo | None:
        """The project module named ``dotted`` (also found under a ``src/``-like prefix)."""
        mod = self.modules.get(dotted)
        if mod is None:
            alt = self.by_suffix.get(dotted)
            mod = self.modules.get(alt) if alt else None
        return mod

    def module_globals(self, mod: ModuleInfo) -> Env:
        """The module's global values, evaluating its top level on first use."""
        self.touched.add(mod.name)
        if not mod.loaded:
            mod.loaded = True
            mod.tree = self._load(mod)
            if mod.tree is not None:
                mod.evaluating = True
                frame = Frame(self, mod, "py:" + mod.name, mod.globals, module_level=True)
                saved, self.budget = self.budget, Budget(MODULE_BUDGET)
                try:
                    frame.exec_block(mod.tree.body)
                except RecursionError:
                    pass
                except BudgetExhausted:
                    self.incomplete.append((mod.relpath, "module top level"))
                finally:
                    self.budget = saved
                    mod.evaluating = False
                if frame.env is not mod.globals and frame.env is not None:
                    mod.globals.update(frame.env)
        return mod.globals

    def kind_of(self, ref: str) -> str:
        """The object kind (``path``, ``xml`` …) a library value of ``ref`` has."""
        for prefix, kind in self._kinds:
            if ref.startswith(prefix):
                return kind
        return ""

    def report(self, f: RawFinding) -> None:
        """Record a flow (deduplicated by rule, sink and source)."""
        key = (f.rule, f.path, f.line, f.trace[0].path if f.trace else "", f.trace[0].line if f.trace else 0)
        if key not in self.findings:
            self.findings[key] = f

    # -- analysis entry points ------------------------------------------------------------
    def analyse_module(self, mod: ModuleInfo) -> None:
        """Run every function of ``mod`` as an entry point (parameters untrusted only when
        a framework passes client input through them)."""
        env = self.module_globals(mod)
        if mod.tree is None:
            return
        for node in mod.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.analyse_entry("py:" + mod.name + "." + node.name)
            elif isinstance(node, ast.ClassDef):
                cls = "py:" + mod.name + "." + node.name
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.analyse_entry(cls + "." + sub.name)
        del env

    def analyse_entry(self, qual: str) -> None:
        """Analyse one function with parameters as a framework would pass them, within a
        budget; past it, again without following calls into the project."""
        if self.in_entry:  # a nested function, analysed within its parent's budget
            self._analyse_entry(qual)
            return
        self.in_entry = True
        try:
            self.budget = Budget(ENTRY_BUDGET)
            try:
                self._analyse_entry(qual)
                return
            except BudgetExhausted:
                fd = self.defs[qual]
                self.incomplete.append((self.modules[fd.module].relpath, qual.removeprefix("py:")))
            self.intra = True
            self.budget = Budget(ENTRY_BUDGET)
            with contextlib.suppress(BudgetExhausted):
                self._analyse_entry(qual)
        finally:
            self.in_entry = False
            self.intra = False
            self.active.clear()

    def _analyse_entry(self, qual: str) -> None:
        fd = self.defs.get(qual)
        if fd is None or not isinstance(fd.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        mod = self.modules[fd.module]
        node = fd.node
        frame = Frame(self, mod, qual, {}, closure=fd.closure)
        frame.is_view = self._is_view(node, mod)
        fastapi = frame.is_view and self._is_fastapi_route(node, frame)
        args = _all_args(node.args)
        has_self = bool(fd.cls) and not _is_static(node)
        request_param = self._protocol_param(args[1:] if has_self else args)
        for i, a in enumerate(args):
            v = CLEAN
            if i == 0 and has_self:
                v = self._entry_self(fd, node, frame) if not _is_classmethod(node) else Val(ref=fd.cls)
            elif request_param is not None and a is request_param[0]:
                note = request_param[1]
                v = Val(
                    taint=frozenset(
                        {
                            Taint(
                                f"{note}@{mod.relpath}:{a.lineno}",
                                (TraceStep(mod.relpath, a.lineno, f"{a.arg} ({note}) (source)"),),
                            )
                        }
                    ),
                    kind="dict",
                )
            elif self._request_param(a, mod, frame.is_view):
                v = Val(ref=self.models.param_type)
            elif fastapi and a.annotation is not None and not _is_dependency(node, a):
                note = f"{a.arg} (route parameter)"
                v = Val(
                    taint=frozenset(
                        {
                            Taint(
                                f"{note}@{mod.relpath}:{a.lineno}",
                                (TraceStep(mod.relpath, a.lineno, note + " (source)"),),
                            )
                        }
                    )
                )
            frame.env[a.arg] = v
        frame.run(node)

    def _request_param(self, a: ast.arg, mod: ModuleInfo, is_view: bool) -> bool:
        """Whether parameter ``a`` is a web request a server passes in: annotated with a
        framework's request class, or named (or annotated) like one in a view or in a module
        of server-side web code. A ``request`` parameter of a client library (an outgoing
        request it builds) or of a urllib handler is not client input."""
        ann = _annotation_name(a.annotation)
        if "." in ann and ann in self.models.param_annotations:
            return True
        if a.arg not in self.models.param_names and ann not in self.models.param_annotations:
            return False
        return is_view or self.serves_requests(mod)

    def serves_requests(self, mod: ModuleInfo) -> bool:
        """Whether a module is server-side web code: it imports a web server framework, or is
        part of one."""
        got = self._serves.get(mod.name)
        if got is None:
            roots = self.models.server_modules
            got = mod.name.split(".")[0] in roots
            if not got and mod.tree is not None:
                got = any(name in roots or name.split(".")[0] in roots for name in _imported(mod.tree.body))
            self._serves[mod.name] = got
        return got

    def _protocol_param(self, args: list[ast.arg]) -> tuple[ast.arg, str] | None:
        """The parameter a server fills with request data, by the calling convention the
        parameters follow (WSGI's ``environ, start_response``), and the convention's note."""
        names = tuple(a.arg for a in args)
        for params, note in self.models.protocols:
            if names[: len(params)] == params:
                return args[0], note
        return None

    def _entry_self(self, fd: FuncDef, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: Frame) -> Val:
        """``self`` of a method analysed as an entry point: an instance as the class's own
        ``__init__`` (called without arguments beyond their defaults) leaves it, so the
        method sees the state the constructor sets up (connections, dispatch tables)."""
        inst = Val(inst=fd.cls, kind="obj")
        if node.name == "__init__":
            return inst
        init = frame.class_attr(fd.cls, "__init__")
        if init is None or init.ref not in self.defs or init.ref in self.active:
            return inst
        summ = frame.summarise(init.ref, [inst], {}, None)
        if summ is None or summ[1] is None or summ[1].inst != fd.cls:
            return inst
        return summ[1]

    def _is_view(self, node: ast.FunctionDef | ast.AsyncFunctionDef, mod: ModuleInfo) -> bool:
        for d in node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if isinstance(target, ast.Attribute) and (
                target.attr == "route" or target.attr in self.models.route_decorators
            ):
                return True
        return False

    def _is_fastapi_route(self, node: ast.FunctionDef | ast.AsyncFunctionDef, frame: Frame) -> bool:
        for d in node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if isinstance(target, ast.Attribute):
                base = frame.eval(target.value)
                ref = base.ref or base.inst
                if any(ref.startswith(m) for m in self.models.route_modules):
                    return True
        return False


def walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree``, breadth first (a faster :func:`ast.walk` that returns a list)."""
    out: list[ast.AST] = [tree]
    i = 0
    ast_type = ast.AST
    while i < len(out):
        node = out[i]
        i += 1
        for name in node._fields:
            if name == "ctx":  # Load/Store/Del singletons: nothing below them
                continue
            v = getattr(node, name, None)
            if isinstance(v, list):
                out.extend(x for x in v if isinstance(x, ast_type))
            elif isinstance(v, ast_type):
                out.append(v)
    return out


def _imported(body: list[ast.stmt]) -> list[str]:
    """The absolute module names a block imports, at any depth of statements."""
    out: list[str] = []
    stack = [body]
    while stack:
        for s in stack.pop():
            if isinstance(s, ast.Import):
                out.extend(a.name for a in s.names)
            elif isinstance(s, ast.ImportFrom):
                if s.module and not s.level:
                    out.append(s.module)
            else:
                for name in ("body", "orelse", "finalbody"):
                    sub = getattr(s, name, None)
                    if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                        stack.append(sub)
                for h in getattr(s, "handlers", ()) or ():
                    stack.append(h.body)
                for c in getattr(s, "cases", ()) or ():
                    stack.append(c.body)
    return out


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


def _is_dependency(node: ast.FunctionDef | ast.AsyncFunctionDef, a: ast.arg) -> bool:
    defaults = node.args.defaults
    args = [*node.args.posonlyargs, *node.args.args]
    pairs = list(zip(args[len(args) - len(defaults) :], defaults, strict=False))
    pairs += [(k, d) for k, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=False) if d]
    for arg, default in pairs:
        if arg is a and isinstance(default, ast.Call):
            name = _annotation_name(default.func)
            if name.endswith(("Depends", "Security")):
                return True
    return False


def _safe_const(v: object) -> bool:
    if isinstance(v, (str, bytes)):
        return len(v) <= MAX_STR
    return isinstance(v, _CONST_TYPES)


def _shape(v: Val, depth: int = 2) -> tuple[Any, ...]:
    const = v.const if isinstance(v.const, (str, int, float, bool, type(None), bytes)) else NOCONST
    if isinstance(const, (str, bytes)) and len(const) > 64:
        const = NOCONST
    fields: tuple[Any, ...] = ()
    if depth and v.fields:
        fields = tuple((k, _shape(x, depth - 1)) for k, x in v.fields[:16] if isinstance(k, (str, int)))
    return (const, v.ref, v.inst, v.kind, fields)


class _Exit(Exception):
    """Control leaves the block (``return``, ``raise``, ``break``, ``continue``)."""


class Frame:
    """The abstract run of one function body (or of a module's top level)."""

    def __init__(
        self,
        project: Project,
        module: ModuleInfo,
        qual: str,
        env: Env,
        *,
        closure: Env | None = None,
        module_level: bool = False,
        depth: int = 0,
    ) -> None:
        self.p = project
        self.m = module
        self.qual = qual
        self.env = env
        self.closure = closure
        self.module_level = module_level
        self.depth = depth
        self.ret: Val | None = None
        self.hits: list[tuple[Taint, str, TraceStep, str]] = []
        self._hit_keys: set[tuple[Taint, str, str, int]] = set()
        self.loop_exits: list[list[Env]] = []
        self.derived: dict[str, frozenset[str]] = {}
        self.is_view = False
        self.cls_ctx = ""
        self.globals_declared: set[str] = set()

    # -- running ---------------------------------------------------------------------------
    def run(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """Run a function body."""
        if isinstance(node, ast.Lambda):
            self.ret = self.eval(node.body)
            return
        try:
            end = self.exec_block(node.body)
        except RecursionError:
            end = None
        del end

    def exec_block(self, stmts: list[ast.stmt]) -> Env | None:
        """Run statements; return the environment at the end, or ``None`` if unreachable."""
        for s in stmts:
            if self.env is None:
                return None
            res = self.exec_stmt(s)
            if res is None:
                return None
        return self.env

    def _fork(self) -> Env:
        return dict(self.env)

    def exec_stmt(self, s: ast.stmt) -> Env | None:
        """Run one statement (``None``: control does not continue after it)."""
        budget = self.p.budget
        budget.left -= 1
        if budget.left < 0:
            raise BudgetExhausted
        t = type(s)
        if t is ast.Assign:
            assert isinstance(s, ast.Assign)
            v = self.eval(s.value)
            for target in s.targets:
                self.assign(target, v, s)
        elif t is ast.Expr:
            assert isinstance(s, ast.Expr)
            self.eval(s.value)
        elif t is ast.AugAssign:
            assert isinstance(s, ast.AugAssign)
            cur = self.eval(_as_load(s.target))
            v = self.binop(s.op, cur, self.eval(s.value), s)
            self.assign(s.target, v, s)
        elif t is ast.AnnAssign:
            assert isinstance(s, ast.AnnAssign)
            if s.value is not None:
                self.assign(s.target, self.eval(s.value), s)
        elif t is ast.Return:
            assert isinstance(s, ast.Return)
            v = self.eval(s.value) if s.value is not None else Val(const=None)
            if self.is_view and v.kind != "response":  # a response object was checked when built
                self.check_sink("$view-return", (v,), {}, None, s, s.value or s)
            self.ret = join(self.ret, v) if self.ret is not None else v
            return None
        elif t is ast.If:
            assert isinstance(s, ast.If)
            return self.exec_if(s.test, s.body, s.orelse)
        elif t in (ast.For, ast.AsyncFor):
            assert isinstance(s, (ast.For, ast.AsyncFor))
            it = self.eval(s.iter)
            elem = self.element_of(it)
            return self.exec_loop(s.body, s.orelse, lambda: self.assign(s.target, elem, s))
        elif t is ast.While:
            assert isinstance(s, ast.While)
            test = self.eval(s.test)
            if test.const is not NOCONST and not _truth(test.const):
                return self.exec_block(s.orelse)
            return self.exec_loop(s.body, s.orelse, None, s.test)
        elif t in (ast.With, ast.AsyncWith):
            assert isinstance(s, (ast.With, ast.AsyncWith))
            for item in s.items:
                v = self.eval(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, v, s)
            return self.exec_block(s.body)
        elif t in (ast.Try, getattr(ast, "TryStar", ast.Try)):
            return self.exec_try(s)  # type: ignore[arg-type]
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef):
            assert isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
            self.define_function(s)
        elif t is ast.ClassDef:
            assert isinstance(s, ast.ClassDef)
            self.define_class(s)
        elif t is ast.Import:
            assert isinstance(s, ast.Import)
            for alias in s.names:
                if alias.asname:
                    self.env[alias.asname] = self.import_ref(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    self.env[top] = self.import_ref(top)
        elif t is ast.ImportFrom:
            assert isinstance(s, ast.ImportFrom)
            base = self.resolve_relative(s.module or "", s.level)
            for alias in s.names:
                if alias.name == "*":
                    mod = self.p.find_module(base)
                    if mod is not None and not mod.evaluating:
                        for k, v in self.p.module_globals(mod).items():
                            if not k.startswith("_"):
                                self.env[k] = v
                    continue
                self.env[alias.asname or alias.name] = self.import_from(base, alias.name)
        elif t is ast.Raise:
            assert isinstance(s, ast.Raise)
            if s.exc is not None:
                self.eval(s.exc)
            return None
        elif t in (ast.Break, ast.Continue):
            if self.loop_exits:
                self.loop_exits[-1].append(dict(self.env))
            return None
        elif t is ast.Assert:
            assert isinstance(s, ast.Assert)
            self.eval(s.test)
            env_t, _ = self.refine(s.test)
            self.env = dict(env_t)
        elif t is ast.Match:
            assert isinstance(s, ast.Match)
            return self.exec_match(s)
        elif t is ast.Global:
            assert isinstance(s, ast.Global)
            self.globals_declared.update(s.names)
        elif t is ast.Delete:
            assert isinstance(s, ast.Delete)
            for target in s.targets:
                if isinstance(target, ast.Name):
                    self.env.pop(target.id, None)
        return self.env

    def exec_if(self, test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt]) -> Env | None:
        """Run an ``if``: a branch whose condition is a known constant alone runs."""
        v = self.eval(test)
        if v.const is not NOCONST:
            return self.exec_block(body if _truth(v.const) else orelse)
        env_t, env_f = self.refine(test)
        self.env = dict(env_t)
        a = self.exec_block(body)
        self.env = dict(env_f)
        b = self.exec_block(orelse)
        joined = join_envs(a, b)
        if joined is None:
            self.env = env_f
            return None
        self.env = joined
        return joined

    def exec_loop(
        self,
        body: list[ast.stmt],
        orelse: list[ast.stmt],
        bind: Callable[[], None] | None,
        test: ast.expr | None = None,
    ) -> Env | None:
        """Run a loop body until its environment is stable (at most three times)."""
        before = dict(self.env)
        self.loop_exits.append([])
        acc: Env | None = before
        for _ in range(3):
            self.env = dict(acc) if acc is not None else dict(before)
            if bind is not None:
                bind()
            if test is not None:
                self.env = dict(self.refine(test)[0])
            end = self.exec_block(body)
            new = join_envs(acc, end)
            for ex in self.loop_exits[-1]:
                new = join_envs(new, ex)
            if new == acc:
                break
            acc = new
        self.loop_exits.pop()
        infinite = test is not None and isinstance(test, ast.Constant) and _truth(test.value)
        result = acc if acc is not None else before
        self.env = dict(result)
        if orelse:
            end = self.exec_block(orelse)
            if end is not None:
                self.env = join_envs(result, end) or result
        if infinite and not self.loop_exits:
            pass
        return self.env

    def exec_try(self, s: ast.Try) -> Env | None:
        """Run ``try``: handlers start from any state the body may have reached."""
        before = dict(self.env)
        end = self.exec_block(s.body)
        if end is not None and s.orelse:
            end = self.exec_block(s.orelse)
        outs = [end]
        start = join_envs(before, self.env if end is None else end) or before
        for h in s.handlers:
            self.env = dict(start)
            if h.name:
                self.env[h.name] = CLEAN
            outs.append(self.exec_block(h.body))
        res: Env | None = None
        for o in outs:
            res = join_envs(res, o) if res is not None else (dict(o) if o is not None else None)
        if s.finalbody:
            self.env = dict(res) if res is not None else dict(start)
            fin = self.exec_block(s.finalbody)
            if res is None or fin is None:
                return None
            res = fin
        if res is None:
            self.env = start
            return None
        self.env = res
        return res

    def exec_match(self, s: ast.Match) -> Env | None:
        """Run ``match``: with a known subject only the first matching case runs."""
        subject = self.eval(s.subject)
        before = dict(self.env)
        outs: list[Env | None] = []
        for case in s.cases:
            m = _match_const(case.pattern, subject.const) if subject.const is not NOCONST else None
            if m is False:
                continue
            self.env = dict(before)
            self._bind_pattern(case.pattern, subject, s)
            if case.guard is not None:
                g = self.eval(case.guard)
                if g.const is not NOCONST and not _truth(g.const):
                    continue
            outs.append(self.exec_block(case.body))
            if m is True and case.guard is None:
                break
        else:
            outs.append(before)
        res: Env | None = None
        for o in outs:
            res = join_envs(res, o) if res is not None else (dict(o) if o is not None else None)
        if res is None:
            self.env = before
            return None
        self.env = res
        return res

    def _bind_pattern(self, pat: ast.pattern, subject: Val, s: ast.stmt) -> None:
        if isinstance(pat, ast.MatchAs):
            if pat.name:
                self.env[pat.name] = subject
            if pat.pattern is not None:
                self._bind_pattern(pat.pattern, subject, s)
        elif isinstance(pat, ast.MatchOr):
            for p in pat.patterns:
                self._bind_pattern(p, subject, s)
        elif isinstance(pat, (ast.MatchSequence, ast.MatchMapping, ast.MatchClass)):
            for name in _pattern_names(pat):
                self.env[name] = from_taint(subject.deep_taint())

    # -- definitions -----------------------------------------------------------------------
    def define_function(self, s: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Bind a ``def``; a nested function is analysed here, where its closure is known."""
        for d in s.decorator_list:
            self.eval(d)
        if self.module_level:
            qual = self.qual + "." + s.name
            if self.cls_ctx:
                self.p.defs[qual] = FuncDef(s, self.m.name, cls=self.cls_ctx)
            else:
                self.p.defs[qual] = FuncDef(s, self.m.name)
            self.env[s.name] = Val(ref=qual)
            return
        qual = self.qual + ".<locals>." + s.name
        self.p.defs[qual] = FuncDef(s, self.m.name, closure=self._closure())
        self.env[s.name] = Val(ref=qual)
        if self.depth == 0:
            self.p.analyse_entry(qual)

    def _closure(self) -> Env:
        out = dict(self.closure) if self.closure else {}
        out.update(self.env)
        return out

    def define_class(self, s: ast.ClassDef) -> None:
        """Bind a class: its attributes and methods become known to the project."""
        qual = self.qual + "." + s.name if self.module_level else self.qual + ".<locals>." + s.name
        bases = tuple(self.eval(b) for b in s.bases)
        self.p.class_bases[qual] = bases
        self.p.defs[qual] = FuncDef(s, self.m.name, closure=None if self.module_level else self._closure())
        body = Frame(self.p, self.m, qual, {}, module_level=True, depth=self.depth)
        body.cls_ctx = qual
        body.closure = self.env if not self.module_level else None
        body.globals_env = self.env if self.module_level else None  # type: ignore[attr-defined]
        with contextlib.suppress(RecursionError):
            body.exec_block(s.body)
        self.p.class_attrs[qual] = body.env
        self.env[s.name] = Val(ref=qual)
        if not self.module_level and self.depth == 0:
            for sub in s.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.p.defs[qual + "." + sub.name] = FuncDef(sub, self.m.name, cls=qual)
                    self.p.analyse_entry(qual + "." + sub.name)

    def resolve_relative(self, module: str, level: int) -> str:
        """The absolute name of a relative import."""
        if not level:
            return module
        parts = self.m.name.split(".")
        if not self.m.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        base = ".".join(parts)
        return f"{base}.{module}" if module and base else (module or base)

    def import_ref(self, dotted: str) -> Val:
        """The value an ``import`` binds."""
        mod = self.p.find_module(dotted)
        if mod is not None:
            return Val(ref="py:" + mod.name)
        return Val(ref=dotted)

    def import_from(self, base: str, name: str) -> Val:
        """The value ``from base import name`` binds."""
        mod = self.p.find_module(base)
        if mod is None:
            return Val(ref=f"{base}.{name}" if base else name)
        sub = self.p.find_module(mod.name + "." + name)
        if sub is not None:
            return Val(ref="py:" + sub.name)
        if mod.evaluating or mod is self.m:
            return Val(ref="py:" + mod.name + "." + name)
        return self.p.module_globals(mod).get(name) or Val(ref="py:" + mod.name + "." + name)

    # -- assignment ------------------------------------------------------------------------
    def assign(self, target: ast.expr, v: Val, s: ast.stmt | ast.expr) -> None:
        """Bind ``v`` to an assignment target."""
        t = type(target)
        if t is ast.Name:
            assert isinstance(target, ast.Name)
            if v.taint:
                step = TraceStep(self.m.relpath, s.lineno, f"{target.id} = …", s.col_offset)
                v = with_taint(v, frozenset(x.step(step) for x in v.taint))
            self.env[target.id] = v
            if target.id in self.globals_declared:
                self.m.globals[target.id] = v
            if isinstance(s, ast.Assign) and not self.module_level:
                names = self.p.names_in(s.value)
                if names:
                    self.derived[target.id] = names
                else:
                    self.derived.pop(target.id, None)
        elif t in (ast.Tuple, ast.List):
            assert isinstance(target, (ast.Tuple, ast.List))
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    self.assign(elt.value, from_taint(v.deep_taint()), s)
                    continue
                item = v.get(i)
                self.assign(elt, item if item is not None else self.element_of(v), s)
        elif t is ast.Attribute:
            assert isinstance(target, ast.Attribute)
            base_node = target.value
            base = self.eval(base_node)
            if base.ref.startswith("py:") and not base.inst:
                mod = self.p.find_module(base.ref[3:])
                if mod is not None and mod is not self.m:
                    self.p.module_globals(mod)[target.attr] = v
                    return
                if base.ref in self.p.class_attrs:
                    self.p.class_attrs[base.ref][target.attr] = v
                    return
            self.store_path(base_node, base.with_field(target.attr, v))
        elif t is ast.Subscript:
            assert isinstance(target, ast.Subscript)
            base = self.eval(target.value)
            key = self.eval(target.slice)
            self.check_store(base, key, v, target, s)
            if (
                key.const is not NOCONST
                and isinstance(key.const, (str, int))
                and not isinstance(target.slice, ast.Slice)
            ):
                nb = base.with_field(key.const, v)
                if base.kind in ("list", "dict", "tuple"):
                    nb = Val(nb.taint, nb.const, nb.ref, nb.inst, nb.fields, base.kind, nb.bound)
            else:
                nb = with_taint(base, base.taint | v.deep_taint() | key.taint)
            self.store_path(target.value, nb)
        elif t is ast.Starred:
            assert isinstance(target, ast.Starred)
            self.assign(target.value, v, s)

    def store_path(self, node: ast.expr, v: Val) -> None:
        """Write back an updated object to the variable or attribute path holding it."""
        if isinstance(node, ast.Name):
            self.env[node.id] = v
            if node.id in self.globals_declared or (self.module_level and node.id in self.m.globals):
                self.m.globals[node.id] = v
            elif node.id not in self.env and self.closure is not None and node.id in self.closure:
                self.closure[node.id] = v
        elif isinstance(node, ast.Attribute):
            base = self.eval(node.value)
            if base.ref.startswith("py:") and not base.inst:
                mod = self.p.find_module(base.ref[3:])
                if mod is not None and mod is not self.m:
                    self.p.module_globals(mod)[node.attr] = v
                    return
            self.store_path(node.value, base.with_field(node.attr, v))
        elif isinstance(node, ast.Subscript):
            base = self.eval(node.value)
            key = self.eval(node.slice)
            if key.const is not NOCONST and isinstance(key.const, (str, int)):
                self.store_path(node.value, base.with_field(key.const, v))

    def check_store(self, base: Val, key: Val, v: Val, target: ast.Subscript, s: ast.stmt | ast.expr) -> None:
        """``session[k] = v`` and ``response.headers[k] = v`` are sinks."""
        for store, refs in self.p.models.stores.items():
            for r in refs:
                hit = False
                if r.startswith("*."):
                    hit = isinstance(target.value, ast.Attribute) and target.value.attr == r[2:]
                else:
                    hit = base.ref == r or base.inst == r
                if hit and not (store in self.p.models.validated_stores and self._validated(store, target)):
                    self.check_sink(store, (v, key), {}, None, s, target)

    def _validated(self, store: str, target: ast.Subscript) -> bool:
        """Whether the object holding a store (``response`` of ``response.headers[k]``) comes
        from a framework that validates what is stored (headers refusing CR/LF)."""
        if not isinstance(target.value, ast.Attribute):
            return False
        holder = self.eval(target.value.value)
        names = [holder.ref.removesuffix("()"), *self._lineage(holder.inst)]
        for name in names:
            if not name:
                continue
            dotted = "." + name.removeprefix("py:") + "."
            if any("." + prefix + "." in dotted for prefix in self.p.models.validated_stores[store]):
                return True
        return False

    # -- expressions -----------------------------------------------------------------------
    def lookup(self, name: str) -> Val:
        """The value of a name: local, closure, global, builtin."""
        v = self.env.get(name)
        if v is not None:
            return v
        if self.closure is not None:
            v = self.closure.get(name)
            if v is not None:
                return v
        ge = getattr(self, "globals_env", None)
        if ge is not None:
            v = ge.get(name)
            if v is not None:
                return v
        v = self.m.globals.get(name)
        if v is not None:
            return v
        if name in _BUILTINS:
            return Val(ref=name)
        return CLEAN

    def eval(self, node: ast.expr | None) -> Val:
        """The abstract value of an expression."""
        if node is None:
            return CLEAN
        t = type(node)
        if t is ast.Constant:
            assert isinstance(node, ast.Constant)
            return Val(const=node.value) if _safe_const(node.value) else CLEAN
        if t is ast.Name:
            assert isinstance(node, ast.Name)
            return self.lookup(node.id)
        if t is ast.Attribute:
            assert isinstance(node, ast.Attribute)
            return self.attribute(self.eval(node.value), node.attr, node)
        if t is ast.Call:
            assert isinstance(node, ast.Call)
            return self.call(node)
        if t is ast.JoinedStr:
            assert isinstance(node, ast.JoinedStr)
            return self.concat([self.eval(v) for v in node.values])
        if t is ast.FormattedValue:
            assert isinstance(node, ast.FormattedValue)
            v = self.eval(node.value)
            if node.format_spec is not None or node.conversion not in (-1, 115):
                return with_taint(Val(), v.deep_taint())
            return v
        if t is ast.BinOp:
            assert isinstance(node, ast.BinOp)
            return self.binop(node.op, self.eval(node.left), self.eval(node.right), node)
        if t is ast.Subscript:
            assert isinstance(node, ast.Subscript)
            return self.subscript(self.eval(node.value), node.slice)
        if t is ast.Compare:
            assert isinstance(node, ast.Compare)
            return self.compare(node)
        if t is ast.BoolOp:
            assert isinstance(node, ast.BoolOp)
            return self.boolop(node)
        if t is ast.UnaryOp:
            assert isinstance(node, ast.UnaryOp)
            v = self.eval(node.operand)
            if v.const is not NOCONST:
                try:
                    if isinstance(node.op, ast.Not):
                        return Val(const=not v.const)
                    if isinstance(node.op, ast.USub):
                        return Val(const=-v.const)  # type: ignore[operator]
                    if isinstance(node.op, ast.UAdd):
                        return Val(const=+v.const)  # type: ignore[operator]
                    if isinstance(node.op, ast.Invert):
                        return Val(const=~v.const)  # type: ignore[operator]
                except Exception:
                    return CLEAN
            return CLEAN if isinstance(node.op, ast.Not) else from_taint(v.taint)
        if t is ast.IfExp:
            assert isinstance(node, ast.IfExp)
            test = self.eval(node.test)
            if test.const is not NOCONST:
                return self.eval(node.body if _truth(test.const) else node.orelse)
            saved = self.env
            env_t, env_f = self.refine(node.test)
            self.env = dict(env_t)
            a = self.eval(node.body)
            self.env = dict(env_f)
            b = self.eval(node.orelse)
            self.env = saved
            return join(a, b)
        if t in (ast.List, ast.Tuple, ast.Set):
            assert isinstance(node, (ast.List, ast.Tuple, ast.Set))
            items: list[tuple[object, Val]] = []
            extra: frozenset[Taint] = EMPTY
            for i, e in enumerate(node.elts):
                if isinstance(e, ast.Starred):
                    extra = extra | self.eval(e.value).deep_taint()
                else:
                    items.append((i, self.eval(e)))
            kind = "list" if t is ast.List else ("tuple" if t is ast.Tuple else "set")
            const: object = NOCONST
            if t is ast.Tuple and all(v.const is not NOCONST for _, v in items) and not extra:
                const = tuple(v.const for _, v in items)
            elif t is ast.Set and all(v.const is not NOCONST for _, v in items) and not extra:
                try:
                    const = frozenset(v.const for _, v in items)
                except TypeError:
                    const = NOCONST
            return Val(taint=extra, const=const, fields=tuple(items), kind=kind)
        if t is ast.Dict:
            assert isinstance(node, ast.Dict)
            fields: list[tuple[object, Val]] = []
            extra = EMPTY
            for k, val in zip(node.keys, node.values, strict=False):
                vv = self.eval(val)
                if k is None:
                    extra = extra | vv.deep_taint()
                    continue
                kv = self.eval(k)
                if kv.const is not NOCONST and isinstance(kv.const, (str, int, tuple)):
                    fields.append((kv.const, vv))
                else:
                    extra = extra | vv.deep_taint() | kv.taint
            return Val(taint=extra, fields=tuple(fields), kind="dict")
        if t in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            return self.comprehension(node)  # type: ignore[arg-type]
        if t is ast.Lambda:
            assert isinstance(node, ast.Lambda)
            qual = f"{self.qual}.<lambda>{node.lineno}_{node.col_offset}"
            self.p.defs[qual] = FuncDef(node, self.m.name, closure=self._closure())
            return Val(ref=qual)
        if t in (ast.Await, ast.YieldFrom):
            return self.eval(node.value)  # type: ignore[attr-defined]
        if t is ast.Yield:
            assert isinstance(node, ast.Yield)
            v = self.eval(node.value)
            self.ret = (
                join(self.ret, Val(taint=v.deep_taint(), kind="list"))
                if self.ret
                else Val(taint=v.deep_taint(), kind="list")
            )
            return CLEAN
        if t is ast.NamedExpr:
            assert isinstance(node, ast.NamedExpr)
            v = self.eval(node.value)
            self.assign(node.target, v, node)
            return v
        if t is ast.Starred:
            assert isinstance(node, ast.Starred)
            return self.eval(node.value)
        if t is ast.Slice:
            return CLEAN
        return CLEAN

    def concat(self, parts: list[Val]) -> Val:
        """String building: the result carries every part's flows; constants fold."""
        taint: frozenset[Taint] = EMPTY
        consts: list[str] = []
        for p in parts:
            if p.taint or p.fields:
                taint = taint | p.deep_taint()
            if consts is not None and p.const is not NOCONST:
                consts.append(str(p.const))
            else:
                consts = None  # type: ignore[assignment]
        if consts is not None:
            s = "".join(consts)
            return Val(taint, const=s if len(s) <= MAX_STR else NOCONST)
        return Val(taint)

    def binop(self, op: ast.operator, a: Val, b: Val, node: ast.AST) -> Val:
        """Arithmetic and string building with constant folding."""
        if a.const is not NOCONST and b.const is not NOCONST and not a.taint and not b.taint:
            fn = _BINOPS.get(type(op))
            if fn is not None:
                try:
                    if isinstance(op, ast.Pow) and isinstance(b.const, (int, float)) and abs(b.const) > 64:
                        raise ValueError
                    if isinstance(op, ast.Mult) and (
                        isinstance(a.const, (str, bytes, tuple)) or isinstance(b.const, (str, bytes, tuple))
                    ):
                        n = b.const if isinstance(b.const, int) else a.const
                        if isinstance(n, int) and n > 256:
                            raise ValueError
                    r = fn(a.const, b.const)
                    if _safe_const(r):
                        return Val(const=r)
                except Exception:
                    pass
        taint = a.deep_taint() | b.deep_taint()
        ref = ""
        kind = ""
        if isinstance(op, ast.Div) and (a.ref or a.kind == "path"):
            ref = a.ref
            kind = "path" if (a.kind == "path" or self.p.kind_of(a.ref) == "path") else ""
        if isinstance(op, ast.Add) and a.kind == "list" and b.kind == "list":
            n = len(a.fields)
            fields = a.fields + tuple((i + n, v) for i, v in b.fields if isinstance(i, int))
            return Val(a.taint | b.taint, fields=fields, kind="list")
        return Val(taint, ref=ref, kind=kind)

    def compare(self, node: ast.Compare) -> Val:
        """Comparisons fold when every operand is known; their result is never tainted."""
        left = self.eval(node.left)
        result: object = True
        for op, comp in zip(node.ops, node.comparators, strict=False):
            right = self.eval(comp)
            if result is NOCONST:
                continue
            if left.const is NOCONST or right.const is NOCONST:
                cont = self._container_const(right) if type(op) in (ast.In, ast.NotIn) else NOCONST
                if cont is NOCONST or left.const is NOCONST:
                    result = NOCONST
                    left = right
                    continue
                rc: object = cont
            else:
                rc = right.const
            try:
                r = _CMPOPS[type(op)](left.const, rc)
            except Exception:
                result = NOCONST
                continue
            result = result and bool(r)
            left = right
        return Val(const=result) if result is not NOCONST else CLEAN

    def _container_const(self, v: Val) -> object:
        if (
            v.kind in ("list", "tuple", "set")
            and v.fields
            and all(x.const is not NOCONST for _, x in v.fields)
        ):
            try:
                return [x.const for _, x in v.fields]
            except Exception:
                return NOCONST
        if v.kind == "dict" and not v.taint:
            return [k for k, _ in v.fields]
        return NOCONST

    def boolop(self, node: ast.BoolOp) -> Val:
        """``and``/``or`` with short-circuit folding."""
        is_and = isinstance(node.op, ast.And)
        out: Val | None = None
        for e in node.values:
            v = self.eval(e)
            if v.const is not NOCONST:
                truth = _truth(v.const)
                if is_and and not truth:
                    return v if out is None else join(out, v)
                if not is_and and truth:
                    return v if out is None else join(out, v)
                if e is node.values[-1]:
                    out = v if out is None else join(out, v)
                continue
            out = v if out is None else join(out, v)
        return out if out is not None else CLEAN

    def subscript(self, base: Val, sl: ast.expr) -> Val:
        """Indexing and slicing: a known key gives the known item; otherwise every item."""
        if isinstance(sl, ast.Slice):
            lo, hi, st = self.eval(sl.lower), self.eval(sl.upper), self.eval(sl.step)
            if base.const is not NOCONST and isinstance(base.const, (str, bytes, tuple)):
                try:
                    args = [
                        None if x.const is NOCONST and n is None else x.const
                        for x, n in ((lo, sl.lower), (hi, sl.upper), (st, sl.step))
                    ]
                    if all(a is None or isinstance(a, int) for a in args):
                        return Val(const=base.const[slice(*args)])  # type: ignore[arg-type]
                except Exception:
                    pass
            if (
                base.kind == "list"
                and base.fields
                and lo.const is not NOCONST
                and not sl.upper
                and not sl.step
            ):
                start = lo.const if isinstance(lo.const, int) else 0
                items = [v for _, v in base.fields][start:]
                return Val(base.taint, fields=tuple(enumerate(items)), kind="list")
            return Val(base.deep_taint(), kind=base.kind if base.kind in ("list", "tuple") else "")
        key = self.eval(sl)
        if (
            key.const is not NOCONST
            and base.ref in self.p.models.client_keys
            and not self.client_key(base.ref, key.const)
        ):
            return CLEAN
        if key.const is not NOCONST and base.ref in self.p.models.request_variables:
            req = self.request_variable(base.ref, key.const)
            if req is not None:
                return req
        if key.const is not NOCONST:
            if isinstance(key.const, (str, int)) and not isinstance(key.const, bool):
                item = base.get(key.const)
                if item is not None and base.kind in ("list", "tuple", "dict", "obj"):
                    if base.taint:
                        return with_taint(item, item.taint | base.taint)
                    return item
                if base.kind in ("list", "tuple") and isinstance(key.const, int) and base.fields:
                    n = len(base.fields)
                    idx = key.const + n if key.const < 0 else key.const
                    if 0 <= idx < n and base.fields[idx][0] == idx:
                        return base.fields[idx][1]
            if base.const is not NOCONST:
                try:
                    r = base.const[key.const]  # type: ignore[index]
                    if _safe_const(r):
                        return Val(const=r)
                except Exception:
                    pass
        if base.kind == "dict" and key.const is not NOCONST and not base.taint:
            return CLEAN
        if key.const is NOCONST and base.kind in ("dict", "list", "tuple"):
            return self.any_item(base, key.taint)
        return (
            from_taint(base.deep_taint() | key.taint)
            if not base.ref
            else Val(base.deep_taint(), ref=base.ref + "[]")
        )

    def _methods_by_prefix(self, obj: Val, prefix: str) -> Val | None:
        """``getattr(self, "do_" + name)``: any method of the object's class (or its bases)
        whose name starts with the fixed prefix, bound to the object (``None``: no prefix or
        no such method)."""
        if len(prefix) < 2:
            return None
        options: list[Val] = []
        seen: set[str] = set()
        todo = [obj.inst]
        while todo and len(options) < 64:
            cls = todo.pop()
            if cls in seen:
                continue
            seen.add(cls)
            self.class_attr(cls, "__init__")  # loads the class's module if needed
            for name, v in (self.p.class_attrs.get(cls) or {}).items():
                if name.startswith(prefix) and v.ref in self.p.defs:
                    options.append(Val(ref=v.ref, bound=obj))
            todo.extend(b.ref for b in self.p.class_bases.get(cls, ()) if b.ref.startswith("py:"))
        return alternatives(options) if options else None

    def any_item(self, v: Val, extra: frozenset[Taint] = EMPTY) -> Val:
        """An item of a container looked up by a key known only at run time: its flows, and
        when it holds project callables (a dispatch table), any one of them."""
        options = [c for _, x in v.fields for c in callees(x) if c.ref in self.p.defs]
        taint = v.deep_taint() | extra
        if options:
            return alternatives(options, taint)
        return from_taint(taint)

    def element_of(self, v: Val) -> Val:
        """An item of an iterable."""
        if v.const is not NOCONST and isinstance(v.const, (str, bytes, tuple, frozenset)):
            items = list(v.const)
            if items and all(_safe_const(x) for x in items):
                first = items[0]
                if all(x == first for x in items):
                    return Val(const=first)
            return CLEAN
        out: Val | None = None
        if v.kind in ("list", "tuple", "set"):
            for _, x in v.fields:
                out = join(out, x) if out is not None else x
        if v.kind == "dict":
            return from_taint(v.taint)
        t = v.taint
        if out is None:
            return from_taint(t)
        return with_taint(out, out.taint | t) if t else out

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Val:
        """Comprehensions run in a scope of their own."""
        saved = self.env
        self.env = dict(saved)
        for gen in node.generators:
            self.assign(gen.target, self.element_of(self.eval(gen.iter)), gen.iter)
            for cond in gen.ifs:
                self.eval(cond)
                self.env = dict(self.refine(cond)[0])
        if isinstance(node, ast.DictComp):
            k, v = self.eval(node.key), self.eval(node.value)
            out = Val(k.deep_taint() | v.deep_taint(), kind="dict")
        else:
            e = self.eval(node.elt)
            out = Val(e.deep_taint(), kind="list")
        self.env = saved
        return out

    def attribute(self, base: Val, attr: str, node: ast.AST | None) -> Val:
        """``base.attr``: fields, module globals, class attributes, library names, sources."""
        f = base.get(attr) if base.fields else None
        if f is not None:
            return f
        if base.ref.startswith("py:") and not base.inst:
            target = base.ref[3:]
            mod = self.p.find_module(target)
            if mod is not None:
                sub = self.p.find_module(mod.name + "." + attr)
                if sub is not None:
                    return Val(ref="py:" + sub.name)
                if mod.evaluating:
                    return Val(ref="py:" + mod.name + "." + attr)
                g = self.p.module_globals(mod).get(attr)
                return g if g is not None else CLEAN
            if base.ref in self.p.class_attrs:
                found = self.class_attr(base.ref, attr)
                if found is not None:
                    return found
            return CLEAN
        if base.inst:
            found = self.class_attr(base.inst, attr)
            if found is not None:
                if found.ref in self.p.defs and isinstance(
                    self.p.defs[found.ref].node, (ast.FunctionDef, ast.AsyncFunctionDef)
                ):
                    fd = self.p.defs[found.ref].node
                    if not _is_static(fd):  # type: ignore[arg-type]
                        return Val(ref=found.ref, bound=base)
                return found
            lib = self._lib_base(base.inst)
            if lib:
                return self._lib_attr(Val(base.taint, ref=lib), attr)
            return from_taint(base.taint)
        if base.ref:
            return self._lib_attr(base, attr)
        if base.taint:
            return Val(base.taint, kind="")
        return CLEAN

    def _lib_attr(self, base: Val, attr: str) -> Val:
        ref = base.ref + "." + attr
        taint = base.taint
        note = self.p.models.sources.get(ref)
        if note is not None and ref in self.p.models.static_route_values and self._static_route():
            note = None
        if note is not None:
            taint = taint | {self.source_taint(ref, ref, self._line)}
        kind = self.p.kind_of(base.ref)
        return Val(taint, ref=ref, kind="path" if kind == "path" and base.kind == "path" else "")

    def source_taint(self, name: str, text: str, line: int) -> Taint:
        """A new flow from source ``name`` read here (cleared for the sinks it cannot reach)."""
        return Taint(
            f"{name}@{self.m.relpath}:{line}",
            (TraceStep(self.m.relpath, line, f"{text} (source)"),),
            self.p.models.source_cleared.get(name, frozenset()),
        )

    def client_key(self, holder: str, key: object) -> bool:
        """Whether ``holder[key]`` (``request.META["HTTP_HOST"]``) is an entry the client sets."""
        if not isinstance(key, str):
            return True
        return any(
            key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1]))
            for pattern in self.p.models.client_keys[holder]
        )

    def request_variable(self, holder: str, key: object) -> Val | None:
        """``os.environ["QUERY_STRING"]``: an entry a CGI server fills from the request is a
        new flow of client input (``None``: not such an entry)."""
        if not isinstance(key, str):
            return None
        for pattern in self.p.models.request_variables.get(holder, ()):
            if key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1])):
                return Val(
                    frozenset(
                        {
                            Taint(
                                f"{holder}[{key}]@{self.m.relpath}:{self._line}",
                                (
                                    TraceStep(
                                        self.m.relpath, self._line, f"{holder} {key} (CGI request) (source)"
                                    ),
                                ),
                            )
                        }
                    )
                )
        return None

    def _static_route(self) -> bool:
        """Whether the function run here is a view whose every route is a fixed URL
        (``@app.route("/about")``, no ``<variable>``): Werkzeug dispatches to it only when the
        request path is exactly that URL."""
        fd = self.p.defs.get(self.qual)
        if fd is None or not isinstance(fd.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        routes = 0
        for d in fd.node.decorator_list:
            if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)):
                continue
            if d.func.attr not in ("route", "get", "post", "put", "patch", "delete"):
                continue
            rule = d.args[0] if d.args else None
            if not (isinstance(rule, ast.Constant) and isinstance(rule.value, str)) or "<" in rule.value:
                return False
            routes += 1
        return routes > 0

    def _lineage(self, cls: str) -> list[str]:
        """A class and all its bases (project classes and the library classes they name)."""
        out: list[str] = []
        todo = [cls] if cls else []
        while todo and len(out) < 64:
            c = todo.pop()
            if c in out:
                continue
            out.append(c)
            todo.extend(b.ref for b in self.p.class_bases.get(c, ()) if b.ref and b.ref != "object")
        return out

    def _lib_base(self, cls: str, seen: frozenset[str] = frozenset()) -> str:
        """The library class a project class derives from, if any."""
        if cls in seen:
            return ""
        for b in self.p.class_bases.get(cls, ()):
            if b.ref.startswith("py:"):
                found = self._lib_base(b.ref, seen | {cls})
                if found:
                    return found
            elif b.ref and b.ref != "object":
                return b.ref
        return ""

    def class_attr(self, cls: str, attr: str, seen: frozenset[str] = frozenset()) -> Val | None:
        """An attribute of a project class or of its bases."""
        if cls in seen:
            return None
        if cls not in self.p.class_attrs:
            fd = self.p.defs.get(cls)
            if fd is None:
                mod_name, _, _ = cls[3:].rpartition(".")
                mod = self.p.find_module(mod_name)
                if mod is not None:
                    self.p.module_globals(mod)
        attrs = self.p.class_attrs.get(cls)
        if attrs is not None and attr in attrs:
            return attrs[attr]
        for b in self.p.class_bases.get(cls, ()):
            if b.ref.startswith("py:"):
                found = self.class_attr(b.ref, attr, seen | {cls})
                if found is not None:
                    return found
        return None

    _line = 0

    # -- calls ----------------------------------------------------------------------------
    def call(self, node: ast.Call) -> Val:
        """A call: project code is summarised, library code is modelled."""
        budget = self.p.budget
        budget.left -= 1
        if budget.left < 0:
            raise BudgetExhausted
        self._line = node.lineno
        func_node = node.func
        receiver: Val | None = None
        method = ""
        if isinstance(func_node, ast.Attribute):
            receiver = self.eval(func_node.value)
            method = func_node.attr
            self._line = node.lineno
            func = self.attribute(receiver, method, func_node)
        else:
            func = self.eval(func_node)
            if isinstance(func_node, ast.Name) and func_node.id == FSTRING_CALL:
                return self.concat([self.eval(a) for a in node.args])
        args: list[Val] = []
        star_taint: frozenset[Taint] = EMPTY
        for a in node.args:
            if isinstance(a, ast.Starred):
                sv = self.eval(a.value)
                if sv.kind in ("list", "tuple") and sv.fields:
                    args.extend(v for _, v in sv.fields)
                else:
                    star_taint = star_taint | sv.deep_taint()
            else:
                args.append(self.eval(a))
        kwargs: dict[str, Val] = {}
        for kw in node.keywords:
            v = self.eval(kw.value)
            if kw.arg is None:
                star_taint = star_taint | v.deep_taint()
            else:
                kwargs[kw.arg] = v
        self._line = node.lineno
        if func.kind == ALTS:  # one of several callables chosen at run time: any of them
            out: Val | None = None
            for alt in callees(func):
                r = self._call_one(alt, args, kwargs, node, receiver, method, func_node, star_taint)
                out = join(out, r) if out is not None else r
            return out if out is not None else CLEAN
        return self._call_one(func, args, kwargs, node, receiver, method, func_node, star_taint)

    def _call_one(
        self,
        func: Val,
        args: list[Val],
        kwargs: dict[str, Val],
        node: ast.Call,
        receiver: Val | None,
        method: str,
        func_node: ast.expr,
        star_taint: frozenset[Taint],
    ) -> Val:
        ref = func.ref
        # A modelled API stays modelled when its own code is scanned (Django's ``safe_join``
        # while scanning Django): the model says what it guarantees, its body need not show it.
        if ref.startswith("py:") and ref[3:] in self.p.modelled:
            return self.call_library(
                ref[3:],
                Val(func.taint, ref=ref[3:]),
                args,
                kwargs,
                node,
                receiver,
                method,
                func_node,
                star_taint,
            )
        # project code
        if ref in self.p.defs and (ref.startswith("py:") or ".<l" in ref):
            return self.call_project(ref, func, args, kwargs, node, receiver, func_node)
        if not ref and receiver is not None and receiver.inst and method:
            # a method the class does not define: maybe from a library base
            lib = self._lib_base(receiver.inst)
            if lib:
                ref = lib + "." + method
                func = Val(func.taint, ref=ref)
        return self.call_library(ref, func, args, kwargs, node, receiver, method, func_node, star_taint)

    def call_project(
        self,
        ref: str,
        func: Val,
        args: list[Val],
        kwargs: dict[str, Val],
        node: ast.Call,
        receiver: Val | None,
        func_node: ast.expr,
    ) -> Val:
        """Call a project function, method, class or lambda through its summary."""
        fd = self.p.defs[ref]
        if isinstance(fd.node, ast.ClassDef):
            inst = Val(inst=ref, kind="obj")
            init = self.class_attr(ref, "__init__")
            if init is not None and init.ref in self.p.defs:
                summ = self.summarise(init.ref, [inst, *args], kwargs, node)
                if summ is not None and summ[1] is not None:
                    return summ[1]
                if summ is None:
                    taint = frozenset().union(*(a.deep_taint() for a in args)) if args else EMPTY
                    return with_taint(
                        inst, taint | frozenset().union(*(v.deep_taint() for v in kwargs.values()))
                    )
                return inst
            lib = self._lib_base(ref)
            if lib:
                taint = frozenset().union(*(a.deep_taint() for a in args)) if args else EMPTY
                return Val(taint, inst=ref, kind="obj")
            return inst
        call_args = args
        bound = func.bound
        if bound is not None:
            call_args = [bound, *args]
        summ = self.summarise(ref, call_args, kwargs, node)
        if summ is None:
            taint = EMPTY
            for a in call_args:
                taint = taint | a.deep_taint()
            for v in kwargs.values():
                taint = taint | v.deep_taint()
            return from_taint(taint)
        ret, recv = summ
        if bound is not None and recv is not None and isinstance(func_node, ast.Attribute):
            self.store_path(func_node.value, recv)
        return ret

    def summarise(
        self, ref: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call | None
    ) -> tuple[Val, Val | None] | None:
        """Apply the summary of ``ref`` for these arguments (``None``: cannot be followed)."""
        fd = self.p.defs[ref]
        fnode = fd.node
        if isinstance(fnode, ast.ClassDef):
            return None
        if ref in self.p.active or self.depth >= MAX_DEPTH:
            return None
        params = _all_args(fnode.args)
        bound: dict[str, Val] = {}
        positional = [*fnode.args.posonlyargs, *fnode.args.args]
        for i, a in enumerate(positional):
            if i < len(args):
                bound[a.arg] = args[i]
        if fnode.args.vararg is not None:
            rest = args[len(positional) :]
            bound[fnode.args.vararg.arg] = Val(fields=tuple(enumerate(rest)), kind="tuple")
        extra: dict[str, Val] = {}
        names = {a.arg for a in params}
        for k, v in kwargs.items():
            if k in names:
                bound[k] = v
            else:
                extra[k] = v
        if fnode.args.kwarg is not None:
            bound[fnode.args.kwarg.arg] = Val(fields=tuple(extra.items()), kind="dict")
        # defaults
        defaults = fnode.args.defaults
        for a, d in zip(positional[len(positional) - len(defaults) :], defaults, strict=False):
            if a.arg not in bound:
                bound[a.arg] = self._default(d, fd)
        for a, kd in zip(fnode.args.kwonlyargs, fnode.args.kw_defaults, strict=False):
            if a.arg not in bound:
                bound[a.arg] = self._default(kd, fd) if kd is not None else CLEAN
        order = [a.arg for a in params]
        actual = [bound.get(n, CLEAN) for n in order]
        shape = tuple(_shape(v) for v in actual)
        key = (ref, shape)
        summ = self.p.memo.get(key)
        if summ is None:
            n = self.p.contexts.get(ref, 0)
            if n >= MAX_CONTEXTS:
                shape = tuple(_shape(Val(ref=v.ref, inst=v.inst, kind=v.kind), 0) for v in actual)
                key = (ref, shape)
                summ = self.p.memo.get(key)
            if summ is None:
                if self.p.intra:  # out of budget: only summaries already built are used
                    return None
                self.p.contexts[ref] = n + 1
                summ = self._build_summary(ref, fd, order, actual)
                self.p.memo[key] = summ
        subst = _Subst(actual)
        via: TraceStep | None = None
        if summ.hits and node is not None:
            via = TraceStep(self.m.relpath, node.lineno, f"{_sink_text(node)} (call)", node.col_offset)
        for ph, rule, step, text in summ.hits:
            for real in subst.taints(ph, via):
                self.emit(real, rule, step, text)
        ret = subst.val(summ.ret)
        recv = subst.val(summ.receiver) if summ.receiver is not None else None
        return ret, recv

    def _default(self, d: ast.expr, fd: FuncDef) -> Val:
        if isinstance(d, ast.Constant) and _safe_const(d.value):
            return Val(const=d.value)
        return CLEAN

    def _build_summary(self, ref: str, fd: FuncDef, order: list[str], actual: list[Val]) -> Summary:
        mod = self.p.modules[fd.module]
        self.p.module_globals(mod)
        frame = Frame(self.p, mod, ref, {}, closure=fd.closure, depth=self.depth + 1)
        for i, (name, v) in enumerate(zip(order, actual, strict=False)):
            frame.env[name] = _placeholder(v, f"#{i}")
        first = order[0] if order else ""
        self.p.active.add(ref)
        try:
            frame.run(fd.node)  # type: ignore[arg-type]
        finally:
            self.p.active.discard(ref)
        recv = frame.env.get(first) if first and fd.cls else None
        return Summary(
            ret=frame.ret if frame.ret is not None else Val(const=None), receiver=recv, hits=frame.hits
        )

    def emit(self, t: Taint, rule: str, step: TraceStep, text: str) -> None:
        """A flow reached a sink: report it, or record it in the summary for a parameter."""
        r = self.p.models.rules.get(rule)
        klass = r.klass if r is not None else ""
        if klass in t.cleared or ALL in t.cleared:
            return
        if t.label.startswith("#"):
            # one hit per (flow, rule, sink): paths through branches and loops, and the hits
            # of callees, would otherwise repeat it and multiply in every caller's summary
            key = (t, rule, step.path, step.line)
            if key not in self._hit_keys:
                self._hit_keys.add(key)
                self.hits.append((t, rule, step, text))
            return
        trace = (*t.trace, step)
        self.p.report(
            RawFinding(
                rule,
                step.path,
                step.line,
                step.column,
                trace,
                text,
                t.trace[0].note if t.trace else "",
                t.label.rpartition("@")[0],
            )
        )

    def call_library(
        self,
        ref: str,
        func: Val,
        args: list[Val],
        kwargs: dict[str, Val],
        node: ast.Call,
        receiver: Val | None,
        method: str,
        func_node: ast.expr,
        star_taint: frozenset[Taint],
    ) -> Val:
        """A call outside the project: sinks, sanitisers, container methods, propagation."""
        models = self.p.models
        names = [ref] if ref else []
        if method:
            names.append("*." + method)
        wild = "*." + method if method else ""
        # sinks
        for name in names:
            specs = self.p._sink_index.get(name)
            if specs:
                self.check_call_sinks(specs, name, args, kwargs, receiver, node)
        # lambdas / functions passed to higher-order builtins
        if ref in ("map", "filter", "sorted") and args and args[0].ref in self.p.defs:
            elem = self.element_of(args[1]) if len(args) > 1 else CLEAN
            summ = self.summarise(args[0].ref, [elem], {}, node)
            if summ is not None and ref == "map":
                return Val(summ[0].deep_taint(), kind="list")
        if ref in ("getattr",) and len(args) >= 2 and args[1].const is not NOCONST:
            return self.attribute(args[0], str(args[1].const), node)
        if ref == "getattr" and len(args) >= 2 and args[0].inst and len(node.args) >= 2:
            found = self._methods_by_prefix(args[0], _const_prefix(node.args[1]))
            if found is not None:
                return found
        # a URL put together from parts whose scheme and host carry no flow that may choose
        # them: the destination is fixed, whatever the path or query hold
        if ref in _URL_BUILDERS and args:
            parts = args[0]
            host = set(parts.taint)
            for i in (0, 1):
                part = parts.get(i)
                if part is not None:
                    host |= part.deep_taint()
            if not any(_DESTINATION.isdisjoint(t.cleared) and ALL not in t.cleared for t in host):
                return Val(frozenset(t.clear(_DESTINATION) for t in parts.deep_taint()), const=NOCONST)
        # sanitisers
        for name in names:
            classes = models.sanitizers.get(name)
            if classes is not None:
                if ALL in classes:
                    return self._clean_result(ref, args, receiver)
                base = receiver if (name == wild and receiver is not None) else (args[0] if args else CLEAN)
                taint = frozenset(t.clear(classes) for t in base.deep_taint())
                return Val(taint, const=NOCONST)
        if ref in models.clean_calls:
            return CLEAN
        # server entries of request metadata read by a constant key
        if (
            receiver is not None
            and method == "get"
            and receiver.ref in models.client_keys
            and args
            and args[0].const is not NOCONST
            and not self.client_key(receiver.ref, args[0].const)
        ):
            return Val(args[1].deep_taint()) if len(args) > 1 else CLEAN
        # CGI request variables read from the environment
        if args and args[0].const is not NOCONST:
            holder = ref if ref in models.request_variables else ""
            if not holder and receiver is not None and method == "get":
                holder = receiver.ref
            if holder in models.request_variables:
                req = self.request_variable(holder, args[0].const)
                if req is not None:
                    return req
        # sources called
        src_taint: frozenset[Taint] = EMPTY
        for name in names:
            note = models.sources.get(name)
            if note is not None and not (
                receiver is not None and receiver.kind in models.source_exempt_kinds.get(name, ())
            ):
                src_taint = frozenset({self.source_taint(name, ref or name, node.lineno)})
        # ``x.replace(c, r)`` with an ``r`` free of ``c`` leaves no ``c`` in the result
        if (
            receiver is not None
            and method == "replace"
            and len(args) == 2
            and isinstance(args[0].const, str)
            and isinstance(args[1].const, str)
            and args[0].const in _META
            and args[0].const not in args[1].const
            and receiver.taint
        ):
            classes = _META[args[0].const]
            return Val(frozenset(t.clear(classes) for t in receiver.deep_taint()))
        # the pieces of ``x.split(sep)`` hold no ``sep``; ``sep.join(pieces)`` puts it back
        if receiver is not None and method in ("split", "rsplit") and args and not kwargs:
            sep = args[0].const
            classes = _META.get(sep) if isinstance(sep, str) else None
            if classes:
                return Val(frozenset(t.clear(classes) for t in receiver.deep_taint()), kind="list")
        if receiver is not None and method == "join" and args and isinstance(receiver.const, str):
            back = frozenset().union(*(c for m, c in _META.items() if m in receiver.const))
            joined = args[0].deep_taint()
            if back and joined:
                return Val(frozenset(t.unclear(back) for t in joined))
        # container methods on a receiver held in a variable
        if receiver is not None and method and isinstance(func_node, ast.Attribute):
            res = self.container_method(receiver, method, args, kwargs, func_node.value, node)
            if res is not None:
                return res
        # constant folding of pure str methods
        if (
            (
                receiver is not None
                and receiver.const is not NOCONST
                and isinstance(receiver.const, (str, bytes))
            )
            and all(a.const is not NOCONST for a in args)
            and not kwargs
            and method in _PURE_STR
        ):
            try:
                r = getattr(receiver.const, method)(*[a.const for a in args])
                if _safe_const(r):
                    return Val(const=r)
                if isinstance(r, list) and all(_safe_const(x) for x in r):
                    return Val(fields=tuple((i, Val(const=x)) for i, x in enumerate(r)), kind="list")
            except Exception:
                pass
        if ref in ("str", "repr", "ascii", "format") and args:
            a0 = args[0]
            if a0.const is not NOCONST and not a0.taint:
                try:
                    return Val(const=str(a0.const) if ref == "str" else repr(a0.const))
                except Exception:
                    return CLEAN
        if ref in ("list", "tuple", "set", "frozenset", "sorted", "reversed") and args:
            a0 = args[0]
            kind = "tuple" if ref == "tuple" else "list"
            if a0.kind in ("list", "tuple") and ref in ("list", "tuple"):
                return Val(a0.taint, fields=a0.fields, kind=kind)
            return Val(a0.deep_taint(), kind=kind)
        if ref == "dict" and not args:
            return Val(fields=tuple(kwargs.items()), kind="dict")
        # default propagation: the result is made from the receiver and the arguments
        taint = func.taint | src_taint | star_taint
        for a in args:
            taint = taint | a.deep_taint()
        for v in kwargs.values():
            taint = taint | v.deep_taint()
        rref = ref + "()" if ref else ""
        kind = ""
        k = self.p.kind_of(ref) if ref else ""
        if k == "path" or (receiver is not None and receiver.kind == "path" and method in _PATH_METHODS):
            kind = "path"
        if k in ("xml", "ldap"):
            kind = k
        if receiver is not None and receiver.kind in ("xml", "ldap"):
            kind = receiver.kind
        for name in names:
            for mark in models.marks.get(name, ()):
                if not _mark_applies(mark, args, kwargs):
                    continue
                if not mark.receiver:
                    kind = mark.kind
                elif receiver is not None and isinstance(func_node, ast.Attribute):
                    self.store_path(
                        func_node.value,
                        Val(
                            receiver.taint,
                            receiver.const,
                            receiver.ref,
                            receiver.inst,
                            receiver.fields,
                            mark.kind,
                            receiver.bound,
                        ),
                    )
        return Val(taint, ref=rref, kind=kind)

    def _clean_result(self, ref: str, args: list[Val], receiver: Val | None) -> Val:
        if ref in ("int", "float", "bool") and args and args[0].const is not NOCONST:
            try:
                fn = {"int": int, "float": float, "bool": bool}[ref]
                return Val(const=fn(args[0].const))  # type: ignore[operator,unused-ignore]
            except Exception:
                return CLEAN
        if ref == "len" and args and args[0].const is not NOCONST:
            try:
                return Val(const=len(args[0].const))  # type: ignore[arg-type]
            except Exception:
                return CLEAN
        return CLEAN

    def container_method(
        self,
        recv: Val,
        method: str,
        args: list[Val],
        kwargs: dict[str, Val],
        holder: ast.expr,
        node: ast.Call,
    ) -> Val | None:
        """Methods of lists, dicts, string buffers and key-value stores held in a variable."""
        kind = recv.kind
        if method == "append" and len(args) == 1 and kind in ("list", ""):
            n = len(recv.fields)
            if kind == "list" or (not recv.ref and not recv.inst):
                nv = Val(recv.taint, fields=(*recv.fields, (n, args[0])), kind="list")
                self.store_path(holder, nv)
                return Val(const=None)
        if method == "pop" and kind == "list":
            items = [v for _, v in recv.fields]
            if not args:
                popped = items.pop() if items else CLEAN
            elif args[0].const is not NOCONST and isinstance(args[0].const, int):
                try:
                    popped = items.pop(args[0].const)
                except IndexError:
                    popped = CLEAN
            else:
                return from_taint(recv.deep_taint())
            self.store_path(holder, Val(recv.taint, fields=tuple(enumerate(items)), kind="list"))
            return with_taint(popped, popped.taint | recv.taint)
        if method == "insert" and kind == "list" and len(args) == 2 and isinstance(args[0].const, int):
            items = [v for _, v in recv.fields]
            items.insert(args[0].const, args[1])
            self.store_path(holder, Val(recv.taint, fields=tuple(enumerate(items)), kind="list"))
            return Val(const=None)
        if method in ("get", "pop", "setdefault") and kind == "dict" and args:
            if args[0].const is not NOCONST and isinstance(args[0].const, (str, int)):
                item = recv.get(args[0].const)
                if item is None and method == "setdefault" and len(args) > 1:
                    self.store_path(holder, recv.with_field(args[0].const, args[1]))
                if item is None:
                    rest = from_taint(recv.taint) if recv.taint else CLEAN
                    return (
                        join(args[1], rest)
                        if len(args) > 1 and recv.taint
                        else (args[1] if len(args) > 1 else rest)
                    )
                return with_taint(item, item.taint | recv.taint)
            return self.any_item(recv)
        if method in ("keys",) and kind == "dict":
            return Val(recv.taint, kind="list")
        if method == "values" and kind == "dict":
            return Val(recv.taint, fields=tuple(enumerate(v for _, v in recv.fields)), kind="list")
        if method == "items" and kind == "dict":
            return Val(recv.deep_taint(), kind="list")
        if method == "update" and kind == "dict" and args:
            nv = recv
            for k, v in args[0].fields:
                nv = nv.with_field(k, v)
            nv = with_taint(nv, nv.taint | args[0].taint)
            for k, v in kwargs.items():
                nv = nv.with_field(k, v)
            self.store_path(holder, Val(nv.taint, fields=nv.fields, kind="dict"))
            return Val(const=None)
        if method in ("extend",) and kind == "list" and args:
            a = args[0]
            n = len(recv.fields)
            if a.kind in ("list", "tuple"):
                fields = recv.fields + tuple((n + i, v) for i, (_, v) in enumerate(a.fields))
                nv = Val(recv.taint | a.taint, fields=fields, kind="list")
            else:
                nv = Val(recv.taint | a.deep_taint(), fields=recv.fields, kind="list")
            self.store_path(holder, nv)
            return Val(const=None)
        # key-value stores keyed by constant arguments (configparser and the like)
        if method == "set" and len(args) >= 2 and not recv.kind.startswith(("list", "dict")):
            keys = args[:-1]
            if all(k.const is not NOCONST for k in keys) and (recv.ref or recv.inst or recv.kind == "obj"):
                key = "\x00".join(str(k.const) for k in keys)
                self.store_path(holder, recv.with_field(("store", key), args[-1]))
                return Val(const=None)
        if (
            method == "get"
            and args
            and recv.fields
            and any(isinstance(k, tuple) and k and k[0] == "store" for k, _ in recv.fields)
        ):
            skey: str | None = (
                "\x00".join(str(k.const) for k in args) if all(a.const is not NOCONST for a in args) else None
            )
            if skey is not None:
                item = recv.get(("store", skey))
                if item is None:
                    fallback = kwargs.get("fallback")
                    return fallback if fallback is not None else CLEAN
                return item
            return from_taint(recv.deep_taint())
        # text buffers
        if method in ("write", "writelines") and args and recv.ref.endswith(("StringIO()", "BytesIO()")):
            nv = Val(recv.taint | args[0].deep_taint(), ref=recv.ref, fields=recv.fields, kind=recv.kind)
            self.store_path(holder, nv)
            return Val(const=None)
        if method == "join" and args and recv.const is not NOCONST and not recv.taint:
            a = args[0]
            if a.kind in ("list", "tuple") and a.fields and all(v.const is not NOCONST for _, v in a.fields):
                try:
                    return Val(const=str(recv.const).join(str(v.const) for _, v in a.fields))
                except Exception:
                    return CLEAN
            return from_taint(a.deep_taint())
        if method in ("add",) and kind == "set" and args:
            self.store_path(holder, Val(recv.taint | args[0].deep_taint(), fields=recv.fields, kind="set"))
            return Val(const=None)
        if method in _MUTATORS and not recv.ref and not recv.inst and kind in ("", "obj") and args:
            taint = EMPTY
            for a in args:
                taint = taint | a.deep_taint()
            if taint and isinstance(holder, ast.Name):
                self.store_path(holder, with_taint(recv, recv.taint | taint))
        return None

    def check_call_sinks(
        self,
        specs: tuple[SinkSpec, ...],
        name: str,
        args: list[Val],
        kwargs: dict[str, Val],
        receiver: Val | None,
        node: ast.Call,
    ) -> None:
        """Check the dangerous arguments of a sink call."""
        fired: set[str] = set()
        for spec in specs:
            if spec.rule in fired:
                continue
            if spec.receiver_kind:
                rk = receiver.kind if receiver is not None else ""
                rref = receiver.ref if receiver is not None else ""
                if rk != spec.receiver_kind and self.p.kind_of(rref) != spec.receiver_kind:
                    continue
            if spec.when_keyword:
                kv = kwargs.get(spec.when_keyword)
                if kv is None or kv.const != spec.when_value:
                    continue
            if spec.arg_kind:
                av = kwargs.get(spec.arg_kind_keyword) if spec.arg_kind_keyword else None
                if av is None and 0 <= spec.arg_kind_position < len(args):
                    av = args[spec.arg_kind_position]
                if av is None or av.kind != spec.arg_kind:
                    continue
            if spec.unless_keyword:
                kv = kwargs.get(spec.unless_keyword)
                if kv is None and 0 <= spec.unless_position < len(args):
                    kv = args[spec.unless_position]
                if kv is not None and kv.ref in spec.unless_values:
                    continue
            vals: list[Val] = []
            if spec.receiver and receiver is not None:
                vals.append(receiver)
            for pos in spec.positions:
                if pos < len(args):
                    vals.append(args[pos])
            for kw in spec.keywords:
                if kw in kwargs:
                    vals.append(kwargs[kw])
            if spec.program:
                shell = kwargs.get("shell")
                if shell is not None and shell.const is not False and shell.const is not NOCONST:
                    continue
                progs: list[Val] = []
                for v in vals:
                    if (
                        v.kind in ("list", "tuple")
                        and any(x.const in _SCRIPT_FLAGS for _, x in v.fields)
                        and _may_be_shell(v.get(0))
                    ):  # [shell, "-c", script]: the script is a command line
                        progs.append(v)
                    elif v.kind in ("list", "tuple"):
                        first = v.get(0)
                        progs.append(first if first is not None else from_taint(v.taint))
                    else:
                        progs.append(v)
                vals = progs
            if self.check_sink(
                spec.rule, tuple(vals), {}, spec, node, node, rule_direct=True, elements=spec.elements
            ):
                fired.add(spec.rule)

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
    ) -> bool:
        """Report the flows in ``vals`` reaching sink ``name`` (a rule id or a pseudo-call)."""
        rules: list[tuple[str, tuple[int, ...]]] = []
        if rule_direct:
            rules.append((name, elements))
        else:
            for s in self.p._sink_index.get(name, ()):
                rules.append((s.rule, s.elements))
        hit = False
        line = getattr(at, "lineno", 0)
        col = getattr(at, "col_offset", 0)
        text = _sink_text(text_node)
        for rule, elements in rules:
            taints: set[Taint] = set()
            for v in vals:
                if elements and v.kind == "tuple" and v.fields:
                    for e in elements:
                        item = v.get(e)
                        if item is not None:
                            taints |= item.deep_taint()
                elif elements and 0 not in elements:
                    continue
                else:
                    taints |= (
                        v.deep_taint()
                        if (v.kind in ("list", "tuple", "dict", "set"))
                        else v.taint | (v.deep_taint() if v.fields and not v.inst else EMPTY)
                    )
            if not taints:
                continue
            step = TraceStep(self.m.relpath, line, f"{text} (sink)", col)
            for t in taints:
                self.emit(t, rule, step, text)
                hit = True
        return hit

    # -- conditions as sanitisers ----------------------------------------------------------
    def refine(self, test: ast.expr) -> tuple[Env, Env]:
        """Environments where ``test`` holds and where it does not."""
        env = self.env
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            a, b = self.refine(test.operand)
            return b, a
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And):
                # false when some operand is false after the ones before it held
                saved = self.env
                false_env: Env | None = None
                for v in test.values:
                    held, failed = self.refine(v)
                    false_env = (join_envs(false_env, failed) or failed) if false_env is not None else failed
                    self.env = held
                and_env = self.env
                self.env = saved
                return and_env, false_env if false_env is not None else env
            saved = self.env
            t_env: Env | None = None
            for v in test.values:
                a, b = self.refine(v)
                t_env = (join_envs(t_env, a) or a) if t_env is not None else a
                self.env = b
            f_env = self.env
            self.env = saved
            return t_env or env, f_env
        classes: frozenset[str] | None = None
        var_node: ast.expr | None = None
        when_true = True
        guard = self._guard(test) if isinstance(test, ast.Call) else None
        if isinstance(test, ast.Name):
            # a false value (empty text, None, 0) carries no attacker-controlled text
            classes, var_node, when_true = frozenset({ALL}), test, False
        elif guard is not None:
            classes, var_node = guard
        elif isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
            m = test.func.attr
            if m in _VALIDATORS:
                classes, var_node = frozenset({ALL}), test.func.value
            elif m in ("startswith", "is_relative_to") and test.args:
                inner = test.func.value
                arg = self.eval(test.args[0])
                if not arg.taint and _is_path_like(inner):
                    classes, var_node = frozenset({"path"}), _unwrap_str(inner)
            elif m in ("fullmatch", "match") and len(test.args) >= 2:
                pat = self.eval(test.args[0])
                if isinstance(pat.const, str) and (m == "fullmatch" or pat.const.endswith(("$", "\\Z"))):
                    classes, var_node = frozenset({ALL}), test.args[1]
        elif isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
            if (
                len(test.args) == 2
                and isinstance(test.args[1], ast.Name)
                and test.args[1].id in ("int", "float", "bool")
            ):
                classes, var_node = frozenset({ALL}), test.args[0]
        elif isinstance(test, ast.Compare) and len(test.ops) == 1:
            op, right = test.ops[0], test.comparators[0]
            left = test.left
            if type(op) in (ast.In, ast.NotIn):
                rv = self.eval(right)
                lv = self.eval(left)
                cont = self._container_const(rv)
                if cont is not NOCONST and not rv.taint:
                    classes, var_node = frozenset({ALL}), left
                    when_true = isinstance(op, ast.In)
                    if isinstance(left, ast.Attribute) and left.attr in _HOST_ATTRS:
                        classes = frozenset({"redirect", "ssrf"})
                elif lv.const is not NOCONST and isinstance(lv.const, str) and lv.const in _META:
                    classes, var_node = _META[lv.const], right
                    when_true = isinstance(op, ast.NotIn)
                    if lv.const in ("'", '"') and _is_inner_slice(right):
                        # no quote between the first and last character: a quoted literal
                        classes, var_node = classes | {"code"}, right.value  # type: ignore[attr-defined]
            elif type(op) in (ast.Eq, ast.NotEq):
                rv = self.eval(right)
                if rv.const is not NOCONST and not rv.taint:
                    classes, var_node = frozenset({ALL}), left
                    when_true = isinstance(op, ast.Eq)
                    if isinstance(left, ast.Attribute) and left.attr in _HOST_ATTRS:
                        classes = frozenset({"redirect", "ssrf"}) if left.attr != "scheme" else frozenset()
        if classes is None or var_node is None or not classes:
            return env, env
        cleared = self._clear(env, var_node, classes)
        return (cleared, env) if when_true else (env, cleared)

    def _guard(self, test: ast.Call) -> tuple[frozenset[str], ast.expr] | None:
        """A call of a modelled check (``url_has_allowed_host_and_scheme(url, ...)``): the
        classes it protects and the argument it checks."""
        guards = self.p.models.guards
        if not guards:
            return None
        ref = self.eval(test.func).ref.removeprefix("py:")
        spec = guards.get(ref)
        if spec is None:
            return None
        positions, keywords, classes = spec
        for pos in positions:
            if pos < len(test.args) and not isinstance(test.args[pos], ast.Starred):
                return classes, test.args[pos]
        for kw in test.keywords:
            if kw.arg in keywords:
                return classes, kw.value
        return None

    def _clear(self, env: Env, node: ast.expr, classes: frozenset[str]) -> Env:
        names: list[str] = []
        n = _unwrap_str(node)
        if isinstance(n, ast.Attribute) and n.attr in _HOST_ATTRS:
            n = n.value
            # ``urlparse(url).hostname``: the check is about ``url``
            if (
                isinstance(n, ast.Call)
                and n.args
                and _annotation_name(n.func).rsplit(".", 1)[-1] in ("urlparse", "urlsplit")
            ):
                n = n.args[0]
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice):
            return env
        if isinstance(n, ast.Name):
            names.append(n.id)
            names.extend(self.derived.get(n.id, ()))
        if not names:
            return env
        out = dict(env)
        for name in names:
            v = out.get(name)
            if v is None or not v.taint:
                continue
            if ALL in classes:
                out[name] = (
                    with_taint(v, EMPTY) if not v.fields else Val(fields=v.fields, kind=v.kind, ref=v.ref)
                )
            else:
                out[name] = with_taint(v, frozenset(t.clear(classes) for t in v.taint))
        return out


_SCRIPT_FLAGS = frozenset({"-c", "/c", "/C", "-Command", "-command", "-e"})
_SHELLS = frozenset(
    {
        "sh", "bash", "zsh", "dash", "ksh", "csh", "tcsh", "fish", "ash", "busybox", "cmd",
        "powershell", "pwsh", "python", "python2", "python3", "perl", "ruby", "node", "php",
        "env", "su", "sudo", "ssh",
    }
)  # fmt: skip


def _may_be_shell(first: Val | None) -> bool:
    """Whether the program of an argument list may run its ``-c`` argument as a script: a
    known shell or interpreter, or a program not known here (``ping -c 1`` is a count)."""
    if first is None or not isinstance(first.const, str):
        return True
    name = first.const.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    return name.rstrip("0123456789.") in _SHELLS or name in _SHELLS


_PURE_STR = frozenset(
    {
        "upper",
        "lower",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "split",
        "rsplit",
        "encode",
        "decode",
        "format",
        "title",
        "capitalize",
        "casefold",
        "zfill",
        "center",
        "ljust",
        "rjust",
        "partition",
        "startswith",
        "endswith",
        "find",
        "rfind",
        "count",
        "join",
        "removeprefix",
        "removesuffix",
        "swapcase",
        "splitlines",
        "index",
    }
)
_PATH_METHODS = frozenset(
    {"resolve", "absolute", "joinpath", "with_name", "with_suffix", "expanduser", "relative_to", "parent"}
)


def _const_prefix(n: ast.expr) -> str:
    """The fixed text an expression's string starts with (``"do_" + x``, ``f"do_{x}"``)."""
    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
        return _const_prefix(n.left)
    if isinstance(n, ast.JoinedStr) and n.values:
        return _const_prefix(n.values[0])
    if isinstance(n, ast.Constant) and isinstance(n.value, str):
        return n.value
    return ""


def _mark_applies(mark: MarkSpec, args: list[Val], kwargs: dict[str, Val]) -> bool:
    """Whether a call's arguments meet a mark's conditions."""
    if mark.when_keyword:
        kv = kwargs.get(mark.when_keyword)
        if kv is None or kv.const is NOCONST or kv.const != mark.when_value:
            return False
    for pos, accepted in mark.args:
        if isinstance(pos, str):
            if pos not in kwargs:
                return False
            a = kwargs[pos]
        elif pos >= len(args):
            return False
        else:
            a = args[pos]
        if not any(
            (a.const is not NOCONST and type(a.const) is type(x) and a.const == x)
            or (isinstance(x, str) and a.ref == x)
            for x in accepted
        ):
            return False
    return True


def _is_inner_slice(n: ast.expr) -> bool:
    """``x[1:-1]``: the text between the first and the last character of ``x``."""
    if not (
        isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) and isinstance(n.value, ast.Name)
    ):
        return False
    lo, hi = n.slice.lower, n.slice.upper
    return (
        isinstance(lo, ast.Constant)
        and lo.value == 1
        and isinstance(hi, ast.UnaryOp)
        and isinstance(hi.op, ast.USub)
        and isinstance(hi.operand, ast.Constant)
        and hi.operand.value == 1
    )


def _unwrap_str(n: ast.expr) -> ast.expr:
    while (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in ("str", "os.fspath")
        and n.args
    ):
        n = n.args[0]
    if (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("resolve", "absolute", "realpath", "abspath", "normpath")
    ):
        if n.func.attr in ("realpath", "abspath", "normpath") and n.args:
            return _unwrap_str(n.args[0])
        return _unwrap_str(n.func.value)
    return n


def _is_path_like(n: ast.expr) -> bool:
    """A containment check is on a resolved path (``str(p)``, ``os.path.realpath(x)`` …)."""
    if isinstance(n, ast.Call):
        f = n.func
        if isinstance(f, ast.Name) and f.id == "str":
            return True
        if isinstance(f, ast.Attribute) and f.attr in (
            "realpath",
            "abspath",
            "normpath",
            "resolve",
            "absolute",
        ):
            return True
    return isinstance(n, ast.Name)


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


def _as_load(target: ast.expr) -> ast.expr:
    return target


def _pattern_names(pat: ast.AST) -> list[str]:
    out: list[str] = []
    for n in ast.walk(pat):
        if isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            out.append(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            out.append(n.rest)
    return out


def _match_const(pat: ast.pattern, value: object) -> bool | None:
    """Whether a constant subject matches a pattern (``None``: cannot tell)."""
    if isinstance(pat, ast.MatchValue) and isinstance(pat.value, ast.Constant):
        try:
            return bool(pat.value.value == value)
        except Exception:
            return None
    if isinstance(pat, ast.MatchSingleton):
        return pat.value is value
    if isinstance(pat, ast.MatchOr):
        results = [_match_const(p, value) for p in pat.patterns]
        if any(r is True for r in results):
            return True
        if all(r is False for r in results):
            return False
        return None
    if isinstance(pat, ast.MatchAs) and pat.pattern is None:
        return True
    return None


_SEP = "\x1f"
"""Separates the field keys of a placeholder label; ``repr`` of a key never holds it."""


def _placeholder(v: Val, label: str, depth: int = 2) -> Val:
    """The parameter value a summary is computed with: ``v``'s shape, flows as placeholders."""
    ph = frozenset({Taint(label, ())})
    fields: tuple[tuple[object, Val], ...] = ()
    if v.fields and depth:
        fields = tuple((k, _placeholder(x, f"{label}{_SEP}{k!r}", depth - 1)) for k, x in v.fields)
    elif v.fields:
        fields = v.fields
    const = (
        v.const
        if isinstance(v.const, (str, int, float, bool, type(None), bytes)) and not v.taint
        else NOCONST
    )
    if isinstance(const, (str, bytes)) and len(const) > 64:
        const = NOCONST
    return Val(ph, const, v.ref, v.inst, fields, v.kind, v.bound)


@functools.lru_cache(maxsize=4096)
def _label_parts(label: str) -> tuple[int, tuple[object, ...]]:
    """Parameter index and field keys of a placeholder label (``#1``, then ``_SEP`` and the
    ``repr`` of each key: ``'name'``, ``0``, ``('GET', '/x')``)."""
    parts = label[1:].split(_SEP)
    try:
        index = int(parts[0])
    except ValueError:
        return -1, ()
    keys: list[object] = []
    for p in parts[1:]:
        try:
            keys.append(ast.literal_eval(p))
        except Exception:
            keys.append(p)
    return index, tuple(keys)


class _Subst:
    """Replace placeholder flows of a summary with the caller's flows."""

    def __init__(self, actual: list[Val]) -> None:
        self.actual = actual
        self.cache: dict[str, frozenset[Taint]] = {}

    def resolve(self, label: str) -> frozenset[Taint]:
        got = self.cache.get(label)
        if got is not None:
            return got
        index, keys = _label_parts(label)
        v: Val | None = self.actual[index] if 0 <= index < len(self.actual) else None
        for key in keys:
            if v is None:
                break
            v = v.get(key)
        res = v.taint if v is not None else EMPTY
        self.cache[label] = res
        return res

    def taints(self, ph: Taint, via: TraceStep | None = None) -> frozenset[Taint]:
        """The caller's flows standing for placeholder flow ``ph`` (``via``: the call site,
        added to the trace of flows that reach a sink inside the callee)."""
        if not ph.label.startswith("#"):
            return frozenset({ph})
        out = set()
        for real in self.resolve(ph.label):
            trace = real.trace + ph.trace
            if via is not None and (not real.trace or real.trace[-1] != via):
                trace = (*real.trace, via, *ph.trace)
            if len(trace) > 12:
                trace = (trace[0], *trace[-11:])
            out.add(Taint(real.label, trace, real.cleared | ph.cleared))
        return frozenset(out)

    def val(self, v: Val, depth: int = 4) -> Val:
        """A summary value with the caller's flows."""
        taint = v.taint
        if taint:
            new: set[Taint] = set()
            for t in taint:
                new |= self.taints(t)
            taint = frozenset(new)
        fields = v.fields
        if fields and depth:
            fields = tuple((k, self.val(x, depth - 1)) for k, x in fields)
        bound = v.bound
        return Val(taint, v.const, v.ref, v.inst, fields, v.kind, bound)
