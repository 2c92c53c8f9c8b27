"""The scanned project: its modules, their globals (a module's top level is run on first use),
the entry points analysed and the findings recorded."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable
from typing import Any

from mamori.analysis._models import Models
from mamori.analysis._parts import outermost_functions, part_key
from mamori.analysis._templates import Use, unescaped_uses
from mamori.analysis._values import (
    CLEAN,
    Taint,
    Val,
)
from mamori.analysis.engine.core import (
    ENTRY_BUDGET,
    MODULE_BUDGET,
    Budget,
    BudgetExhausted,
    Env,
    FuncDef,
    ModuleInfo,
    RawFinding,
    Summary,
    _all_args,
    _is_classmethod,
    _is_static,
)
from mamori.analysis.engine.frame import Frame
from mamori.analysis.engine.frameworks import FrameworkEntries, _is_dependency, route_variables
from mamori.model import TraceStep
from mamori.pyfacts import walk

PART_SEP = "\x00"
"""Between a module's name and the key of one of its functions in :attr:`Project.touched`."""
LOOKUP = "\x01"
"""Starts (and splits) a record in :attr:`Project.touched` of a module looked up by name:
``LOOKUP + dotted + LOOKUP + relpath`` (empty when none answered). What an import resolves
to is something the analysis read: a file added, removed or renamed that changes the answer
makes the importers' cached results stale."""


class Project(FrameworkEntries):
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
        """Modules read while analysing the current entry module (for the cache): a module's
        name for its top level, ``name + PART_SEP + key`` for an outermost function it ran
        (:mod:`mamori.analysis._parts`), and each lookup by name with its answer (:data:`LOOKUP`)."""
        self.outer: dict[ast.AST, str] = {}
        """The part (as in :attr:`touched`) of each outermost function of the loaded modules."""
        self.loaded = 0
        """Modules parsed and evaluated so far (the scan starts afresh past a limit)."""
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
        self.templates: dict[str, list[str]] = {}
        """Template files by the name a renderer asks for (path below a ``templates`` folder)."""
        self.read_file: Callable[[str], str | None] | None = None
        self._template_uses: dict[str, dict[str, list[Use]]] = {}
        self.files_read: set[str] = set()
        """Files other than modules read while analysing the current module (for the cache)."""
        self._serves: dict[str, bool] = {}
        self._gql: dict[str, frozenset[str]] = {}
        self.modelled = frozenset(models.sinks) | frozenset(models.sanitizers) | models.clean_calls
        """Qualified names of modelled APIs (a project function of that name is modelled)."""
        self._names: dict[ast.AST, frozenset[str]] = {}
        self._kinds: list[tuple[str, str]] = [
            (prefix, kind) for kind, prefixes in models.kinds.items() for prefix in prefixes
        ]

    def find_template(self, name: str, from_rel: str) -> str | None:
        """The project file of template ``name`` rendered from module ``from_rel``: the one in
        the ``templates`` folder nearest to the module (Flask's and Django's app folders)."""
        rels = self.templates.get(name.lstrip("/"))
        if not rels:
            return None
        if len(rels) == 1:
            return rels[0]
        here = from_rel.split("/")[:-1]

        def shared(rel: str) -> int:
            n = 0
            for a, b in zip(here, rel.split("/"), strict=False):
                if a != b:
                    break
                n += 1
            return n

        return max(rels, key=shared)

    def template_uses(self, rel: str) -> dict[str, list[Use]]:
        """Where template ``rel`` prints each context name unescaped (read once)."""
        got = self._template_uses.get(rel)
        if got is None:
            text = self.read_file(rel) if self.read_file is not None else None
            got = unescaped_uses(text) if text else {}
            self._template_uses[rel] = got
        self.files_read.add(rel)
        return got

    def names_in(self, node: ast.expr) -> frozenset[str]:
        """The variable names an expression reads (memoised per node)."""
        got = self._names.get(node)
        if got is None:
            got = frozenset(n.id for n in walk(node) if isinstance(n, ast.Name))
            self._names[node] = got
        return got

    def find_module(self, dotted: str) -> ModuleInfo | None:
        """The project module named ``dotted`` (also found under a ``src/``-like prefix); the
        lookup and its answer are recorded in :attr:`touched`."""
        mod = self.lookup_module(dotted)
        self.touched.add(LOOKUP + dotted + LOOKUP + (mod.relpath if mod is not None else ""))
        return mod

    def lookup_module(self, dotted: str) -> ModuleInfo | None:
        """:meth:`find_module` without the record (the cache asks what a name resolves to now)."""
        mod = self.modules.get(dotted)
        if mod is None:
            alt = self.by_suffix.get(dotted)
            mod = self.modules.get(alt) if alt else None
        return mod

    def module_globals(self, mod: ModuleInfo) -> Env:
        """The module's global values, evaluating its top level on first use."""
        self.touched.add(mod.name)
        if mod.loaded:
            self.read_too(mod.reads)
            return mod.globals
        mod.loaded = True
        self.loaded += 1
        outer = self.start_reads()
        try:
            mod.tree = self._load(mod)
            if mod.tree is not None:
                for fn in outermost_functions(mod.tree):
                    self.outer[fn] = mod.name + PART_SEP + part_key(fn)
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
        finally:
            mod.reads = self.end_reads(outer)
        return mod.globals

    def start_reads(self) -> tuple[set[str], set[str]]:
        """Collect the modules and files read from here on apart (a module's top level, a
        summary being built); returns what was collected so far, for :meth:`end_reads`."""
        outer = (self.touched, self.files_read)
        self.touched, self.files_read = set(), set()
        return outer

    def end_reads(self, outer: tuple[set[str], set[str]]) -> tuple[frozenset[str], frozenset[str]]:
        """What was read since :meth:`start_reads`, also added to the reads around it."""
        got = (frozenset(self.touched), frozenset(self.files_read))
        self.touched, self.files_read = outer
        self.read_too(got)
        return got

    def read_too(self, reads: tuple[frozenset[str], frozenset[str]]) -> None:
        """Count ``reads`` (of a module's top level or a summary used again) as read now."""
        self.touched |= reads[0]
        self.files_read |= reads[1]

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
        route_vars = route_variables(node) if frame.is_view else frozenset()
        gql_vars = self.graphql_args(node, mod, has_self) if not route_vars else frozenset()
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
            elif (fastapi and not _is_dependency(node, a)) or a.arg in route_vars or a.arg in gql_vars:
                note = f"{a.arg} (GraphQL argument)" if a.arg in gql_vars else f"{a.arg} (route parameter)"
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
