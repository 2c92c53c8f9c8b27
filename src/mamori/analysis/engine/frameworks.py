"""Framework models in code: which functions a framework calls with client input (routes,
FastAPI parameters, WSGI's ``environ``), which request entries the client sets, CGI request
variables, static routes, and the header stores a framework validates. What can be said as
data lives in ``models/*.yaml``; this module holds the conventions that need code."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from mamori.analysis._models import Models
from mamori.analysis._values import (
    Taint,
    Val,
)
from mamori.analysis.engine.core import (
    FrameBase,
    FuncDef,
    ModuleInfo,
    _all_args,
    _annotation_name,
    _sink_text,
)
from mamori.model import TraceStep

if TYPE_CHECKING:
    from mamori.analysis.engine.frame import Frame


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


_ROUTE_VAR = re.compile(
    r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\([^)]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>|\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}"
)
_SAFE_CONVERTERS = frozenset({"int", "float", "uuid"})
"""Route converters whose values carry no text an attacker chooses (Werkzeug's, Starlette's)."""


def route_variables(node: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    """The parameters a view receives from its URL: ``<name>``, ``<path:name>`` (Flask,
    Werkzeug) and ``{name}`` (FastAPI, Starlette) in a route decorator's rule, except those
    whose converter admits only numbers or UUIDs."""
    out: set[str] = set()
    for d in node.decorator_list:
        if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.args):
            continue
        rule = d.args[0]
        if not (isinstance(rule, ast.Constant) and isinstance(rule.value, str)):
            continue
        for m in _ROUTE_VAR.finditer(rule.value):
            name, conv = (m.group(2), m.group(1)) if m.group(2) else (m.group(3), m.group(4))
            if conv not in _SAFE_CONVERTERS:
                out.add(name)
    return frozenset(out)


_RENDERERS: dict[str, tuple[int, int]] = {
    "flask.render_template": (0, -1),
    "flask.templating.render_template": (0, -1),
    "django.shortcuts.render": (1, 2),
    "django.shortcuts.render_to_response": (0, 1),
    "django.template.loader.render_to_string": (0, 1),
}
"""Template renderers: the position of the template name and of the context (``-1``: the
keyword arguments are the context)."""


class FrameworkSources(FrameBase):
    """Framework models in code: which functions a framework calls with client input (routes,"""

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

    def check_template(self, ref: str, args: list[Val], kwargs: dict[str, Val], node: ast.Call) -> None:
        """A template rendered with context values: a tainted value the template prints
        unescaped is cross-site scripting, reported at the template's line."""
        pos, ctx_pos = _RENDERERS[ref]
        name = args[pos] if pos < len(args) else kwargs.get("template_name")
        if name is None or not isinstance(name.const, str):
            return
        rel = self.p.find_template(name.const, self.m.relpath)
        if rel is None:
            return
        uses = self.p.template_uses(rel)
        if not uses:
            return
        if ctx_pos < 0:
            context = dict(kwargs)
        else:
            cv = args[ctx_pos] if ctx_pos < len(args) else kwargs.get("context")
            context = {k: v for k, v in cv.fields if isinstance(k, str)} if cv is not None else {}
        via = TraceStep(self.m.relpath, node.lineno, f"{_sink_text(node)} (render)", node.col_offset)
        for key, v in context.items():
            taints = v.deep_taint()
            if not taints:
                continue
            for use in uses.get(key, ()):
                step = TraceStep(rel, use.line, f"{use.text}: {use.why} (sink)")
                for tt in taints:
                    self.emit(tt.step(via), "PY-XSS", step, use.text)


class FrameworkEntries:
    """How frameworks call a project's functions: the parameters they fill with client input."""

    models: Models
    defs: dict[str, FuncDef]
    active: set[str]
    _serves: dict[str, bool]
    _gql: dict[str, frozenset[str]]

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

    def graphql_args(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, mod: ModuleInfo, is_method: bool
    ) -> frozenset[str]:
        """The arguments a GraphQL server fills from the client's query: after ``info`` in a
        graphene resolver (``resolve_*``) or ``mutate`` of a module importing graphene, and
        every parameter but ``self``/``info`` of a strawberry field or mutation."""
        if mod.tree is None:
            return frozenset()
        imported = self._graphql_libs(mod)
        if not imported:
            return frozenset()
        args = _all_args(node.args)
        names = [a.arg for a in args]
        strawberry = "strawberry" in imported and any(
            _annotation_name(d.func if isinstance(d, ast.Call) else d).startswith("strawberry.")
            for d in node.decorator_list
        )
        if strawberry:
            skip = {"self", "cls", "root", "info"}
            return frozenset(n for n in names[1 if is_method else 0 :] if n not in skip)
        resolver = node.name.startswith("resolve_") or node.name == "mutate"
        if "graphene" in imported and resolver and "info" in names:
            return frozenset(names[names.index("info") + 1 :])
        return frozenset()

    def _graphql_libs(self, mod: ModuleInfo) -> frozenset[str]:
        got = self._gql.get(mod.name)
        if got is None:
            roots = {n.split(".")[0] for n in _imported(mod.tree.body)} if mod.tree is not None else set()
            got = frozenset(roots & {"graphene", "strawberry"})
            self._gql[mod.name] = got
        return got
