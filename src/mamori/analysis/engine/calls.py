"""Calls: project code through its summary (:mod:`.summaries`), library code through the
models (sanitisers, sources called, container methods, marks, propagation); calls of values
chosen at run time reach every alternative."""

from __future__ import annotations

import ast

from mamori.analysis._models import MarkSpec
from mamori.analysis._parse import FSTRING_CALL
from mamori.analysis._values import (
    ALL,
    ALTS,
    CLEAN,
    EMPTY,
    MAX_ALTS,
    NOCONST,
    Taint,
    Val,
    alternatives,
    callees,
    from_taint,
    join,
    with_taint,
)
from mamori.analysis.engine.conditions import _ALL_GONE, _META
from mamori.analysis.engine.core import (
    BudgetExhausted,
    FrameBase,
    _safe_const,
    _sink_text,
    pin_host,
    pins_host,
)
from mamori.analysis.engine.frameworks import _RENDERERS
from mamori.model import TraceStep

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

_NUMBER_TYPES = frozenset({"int", "float", "bool", "decimal.Decimal", "uuid.UUID"})
"""Converters whose result holds no text of the input's."""

_CHAR_CLEARS: frozenset[str] = frozenset().union(*_META.values())
"""Sink classes a check for absent characters clears (and a decoder undoes)."""


def _absent_marks(t: Taint) -> frozenset[str]:
    """The ``no<char>`` marks of ``t``: characters a replacement removed."""
    return frozenset(c for c in t.cleared if c.startswith("no"))


_URL_BUILDERS = frozenset(
    {"urllib.parse.urlunsplit", "urllib.parse.urlunparse", "urlparse.urlunsplit", "urlparse.urlunparse"}
)


_DESTINATION = frozenset({"redirect"})
"""Sink classes a URL's scheme and host decide (an open redirect needs another host)."""


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


class Calls(FrameBase):
    """Calls: project code through its summary (:mod:`.summaries`), library code through the"""

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
            self._check_reflection(func_node, node)
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
        saved, self.sunk = self.sunk, set()
        for name in names:
            specs = self.p._sink_index.get(name)
            if specs:
                self.check_call_sinks(specs, name, args, kwargs, receiver, node)
        # a flow that reached this sink is reported here; what the call returns (the rows of a
        # query, a parsed document, a fetched page) is not the attacker's text any more
        sunk, self.sunk = self.sunk, saved
        if ref in _RENDERERS:
            self.check_template(ref, args, kwargs, node)
        for name in names:
            cb = models.callbacks.get(name)
            if cb is not None:
                self.run_callback(cb, args, kwargs, node)
        # lambdas / functions passed to higher-order builtins
        if ref in ("map", "filter", "sorted") and args and args[0].ref in self.p.defs:
            elem = self.element_of(args[1]) if len(args) > 1 else CLEAN
            summ = self.summarise(args[0].ref, [elem], {}, node)
            if summ is not None and ref == "map":
                return Val(summ[0].deep_taint(), kind="list")
        if ref in ("getattr",) and len(args) >= 2 and args[1].const is not NOCONST:
            return self.attribute(args[0], str(args[1].const), node)
        # modules imported by a name known only at run time (plugins found with glob), their
        # members listed with inspect.getmembers or taken with getattr: any of them
        if ref in ("importlib.import_module", "__import__") and args and args[0].const is NOCONST:
            found = self._dynamic_modules(node, kwargs)
            if found is not None:
                return with_taint(found, found.taint | args[0].deep_taint())
        if ref == "inspect.getmembers" and args and self._modules_in(args[0]):
            funcs = self._module_functions(args[0])
            item = Val(fields=((0, from_taint(EMPTY)), (1, funcs)), kind="tuple")
            return Val(fields=((0, item),), kind="list")
        if ref == "getattr" and len(args) >= 2 and self._modules_in(args[0]):
            return self._module_functions(args[0])
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
        # decoding undoes what a check proved absent from the encoded text: ``%2e%2e%2f``
        # passes ``"../" not in name`` and is ``../`` after ``unquote``
        if ref in models.decoders and args:
            return Val(frozenset(t.unclear(_CHAR_CLEARS | _absent_marks(t)) for t in args[0].deep_taint()))
        # sanitisers
        for name in names:
            classes = models.sanitizers.get(name)
            if classes is not None:
                if ALL in classes:
                    return self._clean_result(ref, args, receiver)
                base = receiver if (name == wild and receiver is not None) else (args[0] if args else CLEAN)
                taint = frozenset(t.clear(classes) for t in base.deep_taint())
                return Val(taint, const=NOCONST)
        if ref in models.clean_calls or (wild and wild in models.clean_calls):
            return CLEAN
        # ``request.args.get("page", 1, type=int)``: Werkzeug converts the value, and a
        # number carries no text of the client's
        if method == "get" and (conv := kwargs.get("type")) is not None and conv.ref in _NUMBER_TYPES:
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
        # ``x.replace(c, r)`` with an ``r`` free of ``c`` leaves no ``c`` in the result; a
        # longer pattern may be rebuilt from what is left (``"....//"`` loses ``"../"`` once
        # and still holds one), and a shell needs every one of its metacharacters gone
        if (
            receiver is not None
            and method == "replace"
            and len(args) == 2
            and isinstance(args[0].const, str)
            and isinstance(args[1].const, str)
            and args[0].const in _META
            and len(args[0].const) == 1
            and args[0].const not in args[1].const
            and receiver.taint
        ):
            char = args[0].const
            out = set()
            for t in receiver.deep_taint():
                t = t.clear(frozenset({"no" + char}))
                classes = _META[char] - _ALL_GONE.keys()
                classes |= {k for k, chars in _ALL_GONE.items() if all("no" + c in t.cleared for c in chars)}
                out.add(t.clear(classes))
            return Val(frozenset(out))
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
        # except for a database query: its rows (the cursor ``execute`` returns) are the stored
        # data, not the values bound as its parameters
        if not any(spec.rule == "PY-SQLI" for name in names for spec in self.p._sink_index.get(name, ())):
            for a in args:
                taint = taint | a.deep_taint()
            for v in kwargs.values():
                taint = taint | v.deep_taint()
        if sunk:
            taint = frozenset(t for t in taint if t not in sunk)
        if (
            taint
            and method == "format"
            and receiver is not None
            and isinstance(receiver.const, str)
            and pins_host(receiver.const.split("{", 1)[0])
        ):
            taint = pin_host(taint)  # "https://api.example.org/{}".format(x): the host stays
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

    def _check_reflection(self, func_node: ast.expr, node: ast.Call) -> None:
        """``globals()[name]()`` and ``getattr(module, name)()``: a function chosen by a name
        from the client (no constant prefix narrowing it) is code the attacker picks."""
        key_node: ast.expr | None = None
        if (
            isinstance(func_node, ast.Subscript)
            and isinstance(func_node.value, ast.Call)
            and isinstance(func_node.value.func, ast.Name)
            and func_node.value.func.id in ("globals", "locals", "vars")
            and not func_node.value.args
        ):
            key_node = func_node.slice
        elif (
            isinstance(func_node, ast.Call)
            and isinstance(func_node.func, ast.Name)
            and func_node.func.id == "getattr"
            and len(func_node.args) >= 2
        ):
            holder = self.eval(func_node.args[0])
            if holder.ref and not holder.inst and not holder.taint and self._modules_in(holder):
                key_node = func_node.args[1]
        if key_node is None or _const_prefix(key_node):
            return
        key = self.eval(key_node)
        if key.taint:
            self.check_sink("PY-CODEI", (key,), {}, None, node, func_node, rule_direct=True)

    def run_callback(
        self, cb: tuple[int | str, int, str], args: list[Val], kwargs: dict[str, Val], node: ast.Call
    ) -> None:
        """A project function registered as a callback a library calls with untrusted data
        (a message queue's consumer): called here with that data in the parameter named."""
        where, param, note = cb
        fn = kwargs.get(where) if isinstance(where, str) else (args[where] if where < len(args) else None)
        if fn is None:
            return
        for c in callees(fn):
            if c.ref not in self.p.defs or not c.ref.startswith("py:"):
                continue
            taint = Taint(
                f"{note}@{self.m.relpath}:{node.lineno}",
                (
                    TraceStep(
                        self.m.relpath, node.lineno, f"{_sink_text(node)}: {note} (source)", node.col_offset
                    ),
                ),
            )
            call_args = [CLEAN] * param + [Val(frozenset({taint}))]
            self.call_project(c.ref, c, call_args, {}, node, None, node.func)

    def _dynamic_modules(self, node: ast.Call, kwargs: dict[str, Val]) -> Val | None:
        """The project modules ``importlib.import_module("plugins." + name)`` may import: those
        named with the constant prefix (resolved against ``package=`` or this module when
        relative), or without one the modules beside this one; ``None`` when none is known."""
        prefix = _const_prefix(node.args[0]) if node.args else ""
        if prefix.startswith("."):
            pkg = kwargs.get("package")
            base = pkg.const if pkg is not None and isinstance(pkg.const, str) else ""
            if not base:
                base = self.m.name if self.m.is_package else self.m.name.rpartition(".")[0]
            level = len(prefix) - len(prefix.lstrip("."))
            parts = base.split(".") if base else []
            parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
            prefix = ".".join(parts) + "." + prefix.lstrip(".") if parts else prefix.lstrip(".")
        if not prefix:
            own = self.m.name if self.m.is_package else self.m.name.rpartition(".")[0]
            prefix = own + "." if own else ""
        names = sorted(
            n
            for n, mod in self.p.modules.items()
            if mod.relpath and n.startswith(prefix) and n != self.m.name and (prefix or "." not in n)
        )
        if not names:
            return None
        return alternatives([Val(ref="py:" + n) for n in names[:MAX_ALTS]])

    def _modules_in(self, v: Val) -> bool:
        """Whether ``v`` is a project module (or one of several chosen at run time)."""
        opts = callees(v)
        return bool(opts) and all(
            o.ref.startswith("py:")
            and not o.inst
            and o.ref not in self.p.defs
            and self.p.find_module(o.ref[3:])
            for o in opts
        )

    def _module_functions(self, mods: Val) -> Val:
        """Any function defined at the top level of any of the modules ``mods`` may be."""
        options: list[Val] = []
        for m in callees(mods):
            mod = self.p.find_module(m.ref[3:])
            if mod is None:
                continue
            for v in self.p.module_globals(mod).values():
                if (
                    v.ref.startswith("py:" + mod.name + ".")
                    and v.ref in self.p.defs
                    and isinstance(self.p.defs[v.ref].node, (ast.FunctionDef, ast.AsyncFunctionDef))
                ):
                    options.append(v)
        return alternatives(options) if options else CLEAN

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
