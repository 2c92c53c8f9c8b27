"""Abstract values of the taint engine: what is known about a Python value at a program point.

A :class:`Val` carries the taint flows reaching it (:class:`Taint`, each with its trace and the
sink classes a sanitiser already cleared it for), a known constant (for constant folding and
dead-branch pruning), the qualified name it refers to (``subprocess.run``, ``flask.request``, or
``py:pkg.mod.func`` for the project's own code), the class of an instance, and the known
fields of containers and objects (list items, dict keys, attributes). Values are immutable, so
the engine can share and memoise them freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mamori.model import TraceStep


class _NoConst:
    """Marker: the value is not a known constant."""

    _instance: _NoConst | None = None

    def __new__(cls) -> _NoConst:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOCONST"


NOCONST = _NoConst()
"""The one marker of an unknown constant."""

ALL = "*"
"""Sink class meaning "every class" in sanitiser models."""

MAX_TRACE = 12


@dataclass(frozen=True, slots=True)
class Taint:
    """One flow of untrusted data: where it came from and the steps it took.

    ``label`` names the source and where it was read (``flask.request.args@app.py:12``), so two
    flows are the same when they start at the same place and are cleared for the same sinks;
    labels starting with ``#`` are placeholders for a parameter of
    the function being summarised (``#0``, ``#1/attr``), replaced by the caller's taint.
    """

    label: str
    trace: tuple[TraceStep, ...] = field(compare=False)
    """How the data got here: one representative path (not part of the flow's identity, so
    the many paths of one flow through branches and loops count once and sets stay small)."""
    cleared: frozenset[str] = frozenset()

    def step(self, step: TraceStep) -> Taint:
        """This flow, one step further."""
        if self.trace and self.trace[-1].line == step.line and self.trace[-1].path == step.path:
            return self
        trace = (*self.trace, step)
        if len(trace) > MAX_TRACE:
            trace = (trace[0], *trace[-(MAX_TRACE - 1) :])
        return Taint(self.label, trace, self.cleared)

    def clear(self, classes: frozenset[str]) -> Taint:
        """This flow, sanitised for ``classes``."""
        return Taint(self.label, self.trace, self.cleared | classes)

    def unclear(self, classes: frozenset[str]) -> Taint:
        """This flow, no longer sanitised for ``classes`` (a separator was put back)."""
        if not self.cleared & classes:
            return self
        return Taint(self.label, self.trace, self.cleared - classes)


EMPTY: frozenset[Taint] = frozenset()


@dataclass(frozen=True, slots=True)
class Val:
    """What the engine knows about one value."""

    taint: frozenset[Taint] = EMPTY
    const: object = NOCONST
    ref: str = ""
    """Qualified name the value refers to (a library object, or ``py:`` + a project name)."""
    inst: str = ""
    """For instances of the project's classes: ``py:`` + the class's qualified name."""
    fields: tuple[tuple[object, Val], ...] = ()
    """Known attributes, dict keys or list indices, in insertion order."""
    kind: str = ""
    """``list``, ``dict``, ``tuple``, ``set``, ``obj`` or empty."""
    bound: Val | None = field(default=None, compare=False)
    """The receiver of a bound method."""

    def get(self, key: object) -> Val | None:
        """The known field ``key``, if any."""
        for k, v in self.fields:
            if k == key:
                return v
        return None

    def with_field(self, key: object, value: Val) -> Val:
        """This value with field ``key`` set (replacing an earlier one)."""
        fields = (*tuple((k, v) for k, v in self.fields if k != key), (key, value))
        if len(fields) > 64:
            fields = fields[-64:]
        return Val(self.taint, self.const, self.ref, self.inst, fields, self.kind or "obj", self.bound)

    def deep_taint(self, depth: int = 3) -> frozenset[Taint]:
        """Taints of the value and of everything it contains."""
        if not self.fields or depth == 0:
            return self.taint
        out = set(self.taint)
        for _, v in self.fields:
            out |= v.deep_taint(depth - 1)
        return frozenset(out)


CLEAN = Val()


def join(a: Val | None, b: Val | None) -> Val:
    """The value that may be either ``a`` or ``b``."""
    if a is None:
        return b if b is not None else CLEAN
    if b is None or a is b or a == b:
        return a
    a_callable = a.kind == ALTS or a.ref.startswith("py:")
    b_callable = b.kind == ALTS or b.ref.startswith("py:")
    if a_callable and b_callable and (a.ref != b.ref or a.kind == ALTS or b.kind == ALTS):
        return alternatives((*callees(a), *callees(b)), a.taint | b.taint)
    taint = a.taint | b.taint
    const = a.const if _same_const(a.const, b.const) else NOCONST
    fields: tuple[tuple[object, Val], ...] = ()
    if a.fields or b.fields:
        # a field one side does not know is, on that side, any of its (tainted) items: the
        # join of ``s.split('?', 1)`` (a tainted list) and ``(s, "")`` keeps item 1 tainted
        keys: dict[object, Val] = {}
        for k, v in a.fields:
            keys[k] = v
        for k, v in b.fields:
            keys[k] = join(keys[k], v) if k in keys else (join(v, from_taint(a.taint)) if a.taint else v)
        if b.taint:
            known = {k for k, _ in b.fields}
            for k, _ in a.fields:
                if k not in known:
                    keys[k] = join(keys[k], from_taint(b.taint))
        fields = tuple(keys.items())
    return Val(
        taint,
        const,
        a.ref if a.ref == b.ref else "",
        a.inst if a.inst == b.inst else "",
        fields,
        a.kind if a.kind == b.kind else (a.kind or b.kind),
        a.bound if a.bound is not None else b.bound,
    )


ALTS = "alts"
"""Kind of a value that is one of several project callables (its ``fields``), chosen at run
time: a dispatch table's entry, a handler picked by a branch."""
MAX_ALTS = 16


def callees(v: Val) -> tuple[Val, ...]:
    """The callables ``v`` may be: its alternatives, or itself."""
    if v.kind == ALTS:
        return tuple(x for _, x in v.fields)
    return (v,) if v.ref else ()


def alternatives(options: tuple[Val, ...] | list[Val], taint: frozenset[Taint] = frozenset()) -> Val:
    """A value that is one of ``options`` (deduplicated; at most ``MAX_ALTS`` kept)."""
    seen: dict[tuple[str, str], Val] = {}
    for o in options:
        key = (o.ref, o.bound.inst if o.bound is not None else "")
        if key not in seen and len(seen) < MAX_ALTS:
            seen[key] = o
    if len(seen) == 1:
        (only,) = seen.values()
        return with_taint(only, only.taint | taint)
    return Val(taint, fields=tuple(enumerate(seen.values())), kind=ALTS)


def _same_const(x: object, y: object) -> bool:
    if x is NOCONST or y is NOCONST:
        return False
    try:
        return type(x) is type(y) and bool(x == y)
    except Exception:
        return False


def join_envs(a: dict[str, Val] | None, b: dict[str, Val] | None) -> dict[str, Val] | None:
    """Join two variable environments (``None`` is an unreachable point)."""
    if a is None:
        return None if b is None else dict(b)
    if b is None:
        return dict(a)
    out: dict[str, Val] = {}
    for k in a.keys() | b.keys():
        va, vb = a.get(k), b.get(k)
        out[k] = join(va, vb) if va is not None and vb is not None else (va or vb or CLEAN)
    return out


def tainted(v: Val, classes: frozenset[str] = frozenset()) -> Val:
    """``v`` with extra taints (a helper for propagation)."""
    return v


def with_taint(v: Val, taint: frozenset[Taint]) -> Val:
    """``v`` with its own taint replaced."""
    if taint is v.taint:
        return v
    return Val(taint, v.const, v.ref, v.inst, v.fields, v.kind, v.bound)


def from_taint(taint: frozenset[Taint]) -> Val:
    """A value about which only its taint is known."""
    return Val(taint) if taint else CLEAN
