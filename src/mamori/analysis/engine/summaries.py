"""Per-function summaries: a project function is run once per *shape* of its arguments, with
placeholder flows for its parameters; a caller substitutes its own flows (:class:`_Subst`)."""

from __future__ import annotations

import ast
import functools
from typing import Any

from mamori.analysis._values import (
    CLEAN,
    EMPTY,
    NOCONST,
    Taint,
    Val,
)
from mamori.analysis.engine.core import (
    MAX_CONTEXTS,
    MAX_DEPTH,
    FrameBase,
    FuncDef,
    Summary,
    _all_args,
    _safe_const,
    _sink_text,
)
from mamori.model import TraceStep


def _shape(v: Val, depth: int = 2) -> tuple[Any, ...]:
    const = v.const if isinstance(v.const, (str, int, float, bool, type(None), bytes)) else NOCONST
    if isinstance(const, (str, bytes)) and len(const) > 64:
        const = NOCONST
    fields: tuple[Any, ...] = ()
    if depth and v.fields:
        fields = tuple((k, _shape(x, depth - 1)) for k, x in v.fields[:16] if isinstance(k, (str, int)))
    return (const, v.ref, v.inst, v.kind, fields)


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


class Summaries(FrameBase):
    """Per-function summaries: a project function is run once per *shape* of its arguments, with"""

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
                outer = self.p.start_reads()
                try:
                    summ = self._build_summary(ref, fd, order, actual)
                finally:
                    reads = self.p.end_reads(outer)
                summ.reads = reads
                self.p.memo[key] = summ
            else:
                self.p.read_too(summ.reads)
        else:
            self.p.read_too(summ.reads)
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
        frame = self.child(mod, ref, {}, closure=fd.closure, depth=self.depth + 1)
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
