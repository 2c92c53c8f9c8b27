"""Statements: assignments, branches (a branch whose condition is a known constant alone
runs), loops to a fixed point, ``try``/``with``/``match``, definitions and imports, and the
stores that are sinks (``session[k] = v``, ``response.headers[k] = v``)."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable

from mamori.analysis._values import (
    CLEAN,
    NOCONST,
    Val,
    callees,
    from_taint,
    join,
    join_envs,
    with_taint,
)
from mamori.analysis.engine.core import BudgetExhausted, Env, FrameBase, FuncDef, _truth
from mamori.model import TraceStep

_ANY_KEY = ("<any key>",)
"""The field of a dict holding the callables stored under keys known only at run time."""


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


class Statements(FrameBase):
    """Statements: assignments, branches (a branch whose condition is a known constant alone"""

    def run(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """Run a function body."""
        part = self.p.outer.get(node)
        if part is not None:
            self.p.touched.add(part)
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
            # a response object was checked when built; a returned dict or list is sent as JSON
            if self.is_view and v.kind not in ("response", "dict", "list"):
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
        body = self.child(self.m, qual, {}, module_level=True, depth=self.depth)
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
            elif callees(v) and all(c.ref in self.p.defs for c in callees(v)) and not base.ref:
                # a dispatch table filled by keys known only at run time (plugins registered
                # in a loop): a lookup by such a key may give any of the callables stored
                prev = base.get(_ANY_KEY)
                item = join(prev, v) if prev is not None else v
                nb = with_taint(base.with_field(_ANY_KEY, item), base.taint | key.taint)
                if not base.kind:
                    nb = Val(nb.taint, nb.const, nb.ref, nb.inst, nb.fields, "dict", nb.bound)
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
