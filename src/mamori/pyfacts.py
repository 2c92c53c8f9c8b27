"""What prioritisation needs to know of each Python file, computed once per file content.

Two stages read a project's Python code: the taint analysis (:mod:`mamori.analysis`) and the
reachability of prioritisation (:mod:`mamori.prioritize.entrypoints` for code findings,
:mod:`mamori.prioritize.reachability` for dependencies). Parsing every file twice cost about a
third of a scan, so this module holds the facts the second needs — functions with their calls and
entry-point reasons, names called under ``if __name__ == "__main__"``, imported modules and the
dotted names referenced — as small frozen values, and :class:`FactsCache` keeps them per file,
keyed by the file's content hash, both in memory (the analysis hands over the trees it parsed)
and under ``MAMORI_HOME/cache`` between runs.

The cache's version is derived from this module's own source, so a change to what is collected
invalidates it without anyone remembering to bump a number.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROUTE_DECORATORS", "VIEW_METHODS", "FactsCache", "FileFacts", "FunctionFacts", "file_facts"]

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


@dataclass(frozen=True, slots=True)
class FunctionFacts:
    """A function or method of a file."""

    name: str
    qualname: str
    """Dotted: module path, enclosing classes and functions, name."""
    path: str
    start: int
    end: int
    calls: frozenset[str]
    """Names it calls, references as attributes or passes as values (an over-approximation)."""
    entry: str
    """Why a framework or the system calls it (empty when nothing says so from the file alone;
    console scripts are decided later, from the project's ``pyproject.toml``)."""
    module: str
    """The dotted module of the file (``pkg/mod.py`` → ``pkg.mod``)."""


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything prioritisation reads of one file."""

    functions: tuple[FunctionFacts, ...]
    main_calls: frozenset[str]
    """Names called from the program's ``__main__`` (a main guard, or ``__main__.py``'s body)."""
    modules: frozenset[str]
    """Imported modules and each of their parents."""
    references: frozenset[str]
    """Dotted names used, resolved through import aliases (``yaml.load``)."""


EMPTY = FileFacts((), frozenset(), frozenset(), frozenset())
"""The facts of a file that could not be parsed."""


def file_facts(tree: ast.AST, rel: str) -> FileFacts:
    """The facts of the parsed file ``rel`` (a path relative to the project root).

    One iterative pass over the tree (no recursion, so a deeply nested file cannot overflow the
    stack): each function's names include those of the functions nested in it, as a reference
    anywhere inside it is made when it runs or defines them.
    """
    stem = rel[: -len(".pyw")] if rel.endswith(".pyw") else rel[:-3] if rel.endswith(".py") else rel
    module = stem.replace("/", ".")
    is_main_file = rel.rsplit("/", 1)[-1] == "__main__.py"
    functions: list[FunctionFacts] = []
    main_calls: set[str] = set()
    modules: set[str] = set()
    aliases: dict[str, str] = {}
    references: set[str] = set()
    attributes: list[ast.Attribute] = []
    qual: list[str] = []
    view_class: list[bool] = []
    scopes: list[set[str]] = [set()]
    # (node, exit marker): a marker pops what entering the node pushed
    _EXIT_FN, _EXIT_CLASS, _EXIT_MAIN = 1, 2, 3
    stack: list[tuple[ast.AST | None, int, object]] = []
    body = getattr(tree, "body", None)
    top = body if isinstance(body, list) else []
    for stmt in reversed(top):
        stack.append((stmt, 0, True))
    ast_type = ast.AST
    FunctionDef, AsyncFunctionDef, ClassDef = ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
    Call, Attribute, Name, Load = ast.Call, ast.Attribute, ast.Name, ast.Load
    Import, ImportFrom = ast.Import, ast.ImportFrom
    while stack:
        node, marker, extra = stack.pop()
        if marker == _EXIT_FN:
            names = scopes.pop()
            assert isinstance(extra, int)
            skeleton = functions[extra]
            functions[extra] = FunctionFacts(
                skeleton.name,
                skeleton.qualname,
                skeleton.path,
                skeleton.start,
                skeleton.end,
                frozenset(names),
                skeleton.entry,
                skeleton.module,
            )
            scopes[-1] |= names
            qual.pop()
            view_class.pop()
            continue
        if marker == _EXIT_CLASS:
            qual.pop()
            view_class.pop()
            continue
        if marker == _EXIT_MAIN:
            names = scopes.pop()
            main_calls |= names
            scopes[-1] |= names
            continue
        assert node is not None
        kind = type(node)
        if extra is True and (
            (is_main_file and kind not in (FunctionDef, AsyncFunctionDef)) or _is_main_guard(node)
        ):
            scopes.append(set())
            stack.append((None, _EXIT_MAIN, None))
        if kind is FunctionDef or kind is AsyncFunctionDef:
            fn = node
            assert isinstance(fn, FunctionDef | AsyncFunctionDef)
            skeleton = FunctionFacts(
                fn.name,
                ".".join([module, *qual, fn.name]),
                rel,
                fn.lineno,
                getattr(fn, "end_lineno", fn.lineno) or fn.lineno,
                frozenset(),
                _entry_reason(fn, rel, bool(view_class) and view_class[-1], bool(qual)),
                module,
            )
            functions.append(skeleton)
            scopes.append(set())
            qual.append(fn.name)
            view_class.append(False)
            stack.append((None, _EXIT_FN, len(functions) - 1))
        elif kind is ClassDef:
            cls = node
            assert isinstance(cls, ClassDef)
            bases = {_last(b) for b in cls.bases}
            view_class.append(any(b and ("View" in b or "Handler" in b or "Resource" in b) for b in bases))
            qual.append(cls.name)
            stack.append((None, _EXIT_CLASS, None))
        elif kind is Call:
            name = _last(node.func)  # type: ignore[attr-defined]
            if name:
                scopes[-1].add(name)
        elif kind is Attribute:
            if type(node.ctx) is Load:  # type: ignore[attr-defined]
                scopes[-1].add(node.attr)  # type: ignore[attr-defined]  # bound methods handed on
            attributes.append(node)  # type: ignore[arg-type]
        elif kind is Name:
            if type(node.ctx) is Load:  # type: ignore[attr-defined]
                scopes[-1].add(node.id)  # type: ignore[attr-defined]  # functions passed as values
        elif kind is Import:
            for a in node.names:  # type: ignore[attr-defined]
                _add_module(modules, a.name)
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif kind is ImportFrom and node.module and node.level == 0:  # type: ignore[attr-defined]
            _add_module(modules, node.module)  # type: ignore[attr-defined]
            for a in node.names:  # type: ignore[attr-defined]
                full = f"{node.module}.{a.name}"  # type: ignore[attr-defined]
                aliases[a.asname or a.name] = full
                references.add(full)
        children: list[ast.AST] = []
        for field_name in node._fields:
            if field_name == "ctx":
                continue
            v = getattr(node, field_name, None)
            if isinstance(v, list):
                children.extend(x for x in v if isinstance(x, ast_type))
            elif isinstance(v, ast_type):
                children.append(v)
        for child in reversed(children):
            stack.append((child, 0, False))
    for attr in attributes:
        dotted = _dotted(attr)
        if dotted:
            head, _, rest = dotted.partition(".")
            if head in aliases:
                references.add(aliases[head] + ("." + rest if rest else ""))
    return FileFacts(tuple(functions), frozenset(main_calls), frozenset(modules), frozenset(references))


def _add_module(modules: set[str], module: str) -> None:
    parts = module.split(".")
    modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))


def _entry_reason(
    node: ast.FunctionDef | ast.AsyncFunctionDef, rel: str, in_view_class: bool, nested: bool
) -> str:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if _last(target) in ROUTE_DECORATORS:
            try:
                return f"@{ast.unparse(target)}"
            except (ValueError, RecursionError, AttributeError):
                return f"@{_last(target)}"
    params = [a.arg for a in node.args.args]
    if params[:2] == ["environ", "start_response"] or params[1:3] == ["environ", "start_response"]:
        return "WSGI application"
    if params[-3:] == ["scope", "receive", "send"]:
        return "ASGI application"
    if in_view_class and node.name in VIEW_METHODS:
        return "method of a view class"
    if rel.endswith("views.py") and params[:1] == ["request"] and not nested:
        return "Django view"
    return ""


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_main_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
    consts = {n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)}
    return "__name__" in names and "__main__" in consts


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _version() -> str:
    try:
        source = Path(__file__).read_bytes()
    except OSError:  # pragma: no cover - the module was loaded from somewhere
        source = b""
    return hashlib.sha256(source).hexdigest()[:16]


class FactsCache:
    """File facts keyed by content hash: in memory for one run, in ``cache_dir`` across runs.

    ``parsed`` counts the files this cache had to parse itself (neither handed over by the
    analysis nor found on disk): a second scan of an unchanged tree parses none.
    """

    FILE = "pyfacts.pickle"

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self.version = _version()
        self.entries: dict[str, FileFacts] = {}
        """Content hash → facts."""
        self.used: set[str] = set()
        self.seen: dict[Path, dict[str, FileFacts]] = {}
        """Scan root → its files' facts, as the analysis met them in this run."""
        self.parsed = 0
        self.dirty = False
        if cache_dir is not None:
            try:
                with (Path(cache_dir) / self.FILE).open("rb") as fh:
                    data = pickle.load(fh)
                if isinstance(data, dict) and data.get("version") == self.version:
                    entries = data.get("entries")
                    if isinstance(entries, dict):
                        self.entries = entries
            except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError):
                self.entries = {}

    @staticmethod
    def key(data: bytes, rel: str) -> str:
        """The cache key of a file: its content and its path (qualified names depend on it)."""
        return hashlib.sha256(rel.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()

    def add_tree(self, root: Path, rel: str, data: bytes, tree: ast.AST | None) -> None:
        """Record the facts of a file of ``root`` that another stage has already parsed."""
        k = self.key(data, rel)
        self.used.add(k)
        found = self.entries.get(k)
        if found is None:
            try:
                found = file_facts(tree, rel) if tree is not None else EMPTY
            except RecursionError:
                found = EMPTY
            self.entries[k] = found
            self.dirty = True
        self.seen.setdefault(Path(root).resolve(), {})[rel] = found

    def note(self, root: Path, rel: str, data: bytes) -> None:
        """Record a file of ``root`` the analysis did not parse (its result was cached)."""
        self.seen.setdefault(Path(root).resolve(), {})[rel] = self.facts(rel, data)

    def files_of(self, root: Path) -> dict[str, FileFacts] | None:
        """Every file of ``root`` the analysis met in this run, or None if it did not scan it."""
        return self.seen.get(Path(root).resolve())

    def facts(self, rel: str, data: bytes) -> FileFacts:
        """The facts of a file, parsing it only when neither memory nor disk has them."""
        k = self.key(data, rel)
        self.used.add(k)
        found = self.entries.get(k)
        if found is not None:
            return found
        self.parsed += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree: ast.AST | None = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        try:
            result = file_facts(tree, rel) if tree is not None else EMPTY
        except RecursionError:
            result = EMPTY
        self.entries[k] = result
        self.dirty = True
        return result

    def read_all(self, root: Path, paths: Iterable[Path]) -> dict[str, FileFacts]:
        """Facts of every file in ``paths`` (relative names to ``root``); unreadable files are left out."""
        out: dict[str, FileFacts] = {}
        for path in paths:
            try:
                rel = path.relative_to(root).as_posix()
                data = path.read_bytes()
            except (OSError, ValueError):
                continue
            out[rel] = self.facts(rel, data)
        return out

    def save(self) -> None:
        """Write the facts of the files seen in this run (entries of vanished files are dropped)."""
        if self.cache_dir is None or not self.dirty:
            return
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        target = Path(self.cache_dir) / self.FILE
        tmp = target.with_name(f"{self.FILE}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                pickle.dump({"version": self.version, "entries": keep}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)
