"""Is the source of a code finding reachable from an entry point of the project?

Entry points are what a framework or the operating system calls: web routes (decorators such as
``@app.route``, ``@router.get``, ``@api_view``, ``@view_config``), WSGI/ASGI applications
(``(environ, start_response)``, ``(scope, receive, send)``), Django views (``views.py`` functions
taking ``request``, methods of view classes), command-line commands (``@click.command``,
``@app.command``, functions named in ``[project.scripts]``, code under
``if __name__ == "__main__"`` and ``__main__.py``), and task handlers (``@task``, ``@shared_task``).
From them, calls are followed by name through the project's own functions (an
over-approximation: a name called anywhere reaches every function of that name).

Answers ``unknown`` when the project shows no entry point at all (a library), so that nothing is
lowered on guesswork.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mamori.model import Finding
from mamori.prioritize.interface import Reachability
from mamori.prioritize.reachability import _python_files
from mamori.treewalk import MAX_SOURCE_BYTES

ROUTE_DECORATORS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "websocket",
        "api_route",
        "api_view",
        "action",
        "view_config",
        "expose",
        "command",
        "group",
        "callback",
        "task",
        "shared_task",
        "periodic_task",
        "receiver",
        "on_event",
        "middleware",
        "errorhandler",
        "before_request",
        "after_request",
    }
)
"""Decorator names (the last attribute: ``app.route`` → ``route``) that make a function an entry point."""

VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "dispatch"})


@dataclass(slots=True)
class _Function:
    name: str
    qualname: str
    path: str
    start: int
    end: int
    calls: set[str] = field(default_factory=set)
    entry: str = ""
    """Why this function is an entry point (empty when it is not)."""


@dataclass(slots=True)
class EntryIndex:
    """The functions of a project, which are entry points, and which are reachable from them."""

    functions: list[_Function] = field(default_factory=list)
    reachable: dict[str, str] = field(default_factory=dict)
    """qualname → the entry point it is reached from."""

    @property
    def has_entries(self) -> bool:
        """True when the project shows at least one entry point."""
        return any(f.entry for f in self.functions)

    def enclosing(self, path: str, line: int) -> _Function | None:
        """The innermost function of ``path`` containing ``line``."""
        best: _Function | None = None
        for f in self.functions:
            if f.path == path and f.start <= line <= f.end and (best is None or f.start >= best.start):
                best = f
        return best


def entry_index(root: Path) -> EntryIndex:
    """Index the Python files under ``root`` (no code is run)."""
    index = EntryIndex()
    scripts = _console_scripts(root)
    main_calls: set[str] = set()
    for path in sorted(_python_files(root)):
        rel = path.relative_to(root).as_posix()
        try:
            if path.stat().st_size > MAX_SOURCE_BYTES:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        module = rel[:-3].replace("/", ".")
        try:
            _Collector(index, rel, module, scripts).visit(tree)
        except RecursionError:  # nested deeper than the visitor goes: the file's entries are partial
            continue
        for node in tree.body:
            if _is_main_guard(node):
                main_calls |= _called_names(node)
        if path.name == "__main__.py":
            main_calls |= {
                n for stmt in tree.body if not isinstance(stmt, ast.FunctionDef) for n in _called_names(stmt)
            }
    by_name: dict[str, list[_Function]] = {}
    for f in index.functions:
        by_name.setdefault(f.name, []).append(f)
    for name in main_calls:
        for f in by_name.get(name, []):
            f.entry = f.entry or "called from the program's __main__"
    queue = [f for f in index.functions if f.entry]
    for f in queue:
        index.reachable[f.qualname] = f"{f.qualname} ({f.entry})"
    by_qualname = {f.qualname: f for f in index.functions}
    while queue:
        current = queue.pop()
        origin = index.reachable[current.qualname]
        callees = [c for name in current.calls for c in by_name.get(name, [])]
        # a method runs on an object that was built: its class's constructor ran too (and the
        # constructor is where dispatch tables of bound methods are usually filled)
        owner = current.qualname.rsplit(".", 1)[0]
        callees += [
            by_qualname[q] for q in (f"{owner}.__init__", f"{owner}.__post_init__") if q in by_qualname
        ]
        for callee in callees:
            if callee.qualname not in index.reachable:
                index.reachable[callee.qualname] = origin
                queue.append(callee)
    return index


class _Collector(ast.NodeVisitor):
    def __init__(self, index: EntryIndex, rel: str, module: str, scripts: set[str]) -> None:
        self.index = index
        self.rel = rel
        self.module = module
        self.scripts = scripts
        self.stack: list[str] = []
        self.view_class: list[bool] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {_last(b) for b in node.bases}
        self.view_class.append(any(b and ("View" in b or "Handler" in b or "Resource" in b) for b in bases))
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()
        self.view_class.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qual = ".".join([self.module, *self.stack, node.name])
        fn = _Function(
            node.name, qual, self.rel, node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno
        )
        fn.calls = _called_names(node)
        fn.entry = self._entry_reason(node)
        self.index.functions.append(fn)
        self.stack.append(node.name)
        self.view_class.append(False)
        self.generic_visit(node)
        self.view_class.pop()
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _entry_reason(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            name = _last(target)
            if name in ROUTE_DECORATORS:
                return f"@{ast.unparse(target)}"
        params = [a.arg for a in node.args.args]
        if params[:2] == ["environ", "start_response"] or params[1:3] == ["environ", "start_response"]:
            return "WSGI application"
        if params[-3:] == ["scope", "receive", "send"]:
            return "ASGI application"
        in_view_class = bool(self.view_class) and self.view_class[-1]
        if in_view_class and node.name in VIEW_METHODS:
            return "method of a view class"
        if self.rel.endswith("views.py") and params[:1] == ["request"] and not self.stack:
            return "Django view"
        if f"{self.module}:{node.name}" in self.scripts:
            return "console script"
        return ""


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _called_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = _last(sub.func)
            if name:
                names.add(name)
        elif isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Load):
            names.add(sub.attr)  # bound methods handed on (dispatch tables, callbacks)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            names.add(sub.id)  # functions passed as values
    return names


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    text = ast.unparse(node.test)
    return "__name__" in text and "__main__" in text


def _console_scripts(root: Path) -> set[str]:
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return set()
    project = data.get("project", {})
    scripts = project.get("scripts", {}) if isinstance(project, dict) else {}
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    more = poetry.get("scripts", {}) if isinstance(poetry, dict) else {}
    out: set[str] = set()
    for table in (scripts, more):
        if isinstance(table, dict):
            out |= {str(v).split("[")[0].strip() for v in table.values() if isinstance(v, str)}
    return out


def code_reachability(finding: Finding, index: EntryIndex) -> tuple[Reachability, str]:
    """Whether the source of a code finding runs when an entry point of the project is called."""
    if not index.has_entries:
        return "unknown", ""
    step = finding.trace[0] if finding.trace else None
    path, line = (step.path, step.line) if step else (finding.location.path, finding.location.line)
    fn = index.enclosing(path, line)
    if fn is None:
        return "unknown", f"the source at {path}:{line} is module-level code"
    origin = index.reachable.get(fn.qualname)
    if origin is not None:
        if fn.entry:
            return "reachable", f"the source is in {fn.qualname}, an entry point ({fn.entry})"
        return "reachable", f"the source is in {fn.qualname}, reached from {origin}"
    return "unreachable", (
        f"no route, command or other entry point calls {fn.qualname}, where the source is: "
        "lower priority, not ignored"
    )
