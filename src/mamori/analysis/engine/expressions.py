"""Expressions: names, constants (folded), string building, containers, subscripts,
comprehensions, attributes (fields, module globals, class attributes, library names and the
sources among them)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from mamori.analysis._values import (
    CLEAN,
    EMPTY,
    NOCONST,
    Taint,
    Val,
    alternatives,
    callees,
    from_taint,
    join,
    with_taint,
)
from mamori.analysis.engine.core import (
    _BUILTINS,
    MAX_STR,
    FrameBase,
    FuncDef,
    _is_static,
    _safe_const,
    _truth,
    pin_host,
    pins_host,
)


def _leftmost_text(n: ast.expr) -> object:
    """The constant text a ``+`` chain starts with (``"https://h/" + a + b``)."""
    while isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
        n = n.left
    if isinstance(n, ast.JoinedStr) and n.values:
        n = n.values[0]
    return n.value if isinstance(n, ast.Constant) else None


def _url_prefix(op: ast.operator, a: Val, node: ast.AST) -> bool:
    """Whether ``a OP b`` builds a URL after a fixed scheme and host (``+`` and ``%``)."""
    if isinstance(op, ast.Mod):
        return isinstance(a.const, str) and pins_host(a.const.split("%", 1)[0])
    if not isinstance(op, ast.Add):
        return False
    return pins_host(a.const) or (isinstance(node, ast.BinOp) and pins_host(_leftmost_text(node)))


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


class Expressions(FrameBase):
    """Expressions: names, constants (folded), string building, containers, subscripts,"""

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
        if taint and parts and pins_host(parts[0].const):
            taint = pin_host(taint)
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
        if taint and _url_prefix(op, a, node):
            taint = pin_host(taint)
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
        models = self.p.models
        if attr == "request" and any(
            base.ref == h or base.ref.startswith(h + ".") for h in models.request_holders
        ):
            return Val(taint, ref=models.param_type)
        note = models.sources.get(ref)
        source = ref
        if note is None and models.source_patterns:
            for prefix, suffix, name in models.source_patterns:
                if ref.startswith(prefix) and ref.endswith(suffix):
                    note, source = models.sources[name], name
                    break
        if note is not None and ref in models.static_route_values and self._static_route():
            note = None
        if note is not None:
            taint = taint | {self.source_taint(source, ref, self._line)}
        kind = self.p.kind_of(base.ref)
        return Val(taint, ref=ref, kind="path" if kind == "path" and base.kind == "path" else "")

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
