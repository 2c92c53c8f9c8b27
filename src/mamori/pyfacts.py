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
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori.treewalk import MAX_SOURCE_BYTES, regular_file_error

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


def file_facts(tree: ast.AST, rel: str, nodes: list[ast.AST] | None = None) -> FileFacts:
    """The facts of the parsed file ``rel`` (a path relative to the project root).

    ``nodes`` is every node of ``tree`` (:func:`walk`; the analysis has that list already). No
    recursion, so a deeply nested file cannot overflow the stack. Which function a name belongs
    to is decided by lines: a function spans its decorators to its last line, and its names
    include those of the functions nested in it, as a reference anywhere inside it is made when
    it runs or defines them. Names under ``if __name__ == "__main__"`` (or anywhere in
    ``__main__.py`` outside a function) are the program's main calls.
    """
    stem = rel[: -len(".pyw")] if rel.endswith(".pyw") else rel[:-3] if rel.endswith(".py") else rel
    module = stem.replace("/", ".")
    is_main_file = rel.rsplit("/", 1)[-1] == "__main__.py"
    if nodes is None:
        nodes = walk(tree)
    FunctionDef, AsyncFunctionDef, ClassDef = ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef
    Call, Attribute, Name, Load = ast.Call, ast.Attribute, ast.Name, ast.Load
    Import, ImportFrom = ast.Import, ast.ImportFrom
    used: list[tuple[int, str]] = []
    """(line, name) of every name a node at that line calls, loads or references."""
    modules: set[str] = set()
    aliases: dict[str, str] = {}
    references: set[str] = set()
    wanted = {Name, Attribute, Call, FunctionDef, AsyncFunctionDef, ClassDef, Import, ImportFrom}
    by_type: dict[type, list[Any]] = {k: [] for k in wanted}
    for node in [n for n in nodes if type(n) in wanted]:
        by_type[type(node)].append(node)
    used.extend((n.lineno, n.id) for n in by_type.get(Name, ()) if type(n.ctx) is Load)
    attributes = by_type.get(Attribute, [])
    used.extend((n.lineno, n.attr) for n in attributes if type(n.ctx) is Load)
    for n in by_type.get(Call, ()):
        name = _last(n.func)
        if name:
            used.append((n.lineno, name))
    scopes = [*by_type.get(FunctionDef, ()), *by_type.get(AsyncFunctionDef, ()), *by_type.get(ClassDef, ())]
    for node in by_type.get(Import, ()):
        for a in node.names:
            _add_module(modules, a.name)
            aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
    for node in by_type.get(ImportFrom, ()):
        if node.module and node.level == 0:
            _add_module(modules, node.module)
            for a in node.names:
                full = f"{node.module}.{a.name}"
                aliases[a.asname or a.name] = full
                references.add(full)
    used.sort()
    lines = [line for line, _ in used]

    def names_in(first: int, last: int) -> frozenset[str]:
        return frozenset(n for _, n in used[bisect_left(lines, first) : bisect_right(lines, last)])

    def span(node: ast.AST) -> tuple[int, int]:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # type: ignore[attr-defined]
        return first, getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]

    functions: list[FunctionFacts] = []
    # enclosing definitions, innermost last: (last line, name, is a view class, is a class)
    open_scopes: list[tuple[int, str, bool, bool]] = []
    for node in sorted(scopes, key=lambda n: (n.lineno, n.col_offset)):
        first, last = span(node)
        while open_scopes and open_scopes[-1][0] < node.lineno:
            open_scopes.pop()
        qual = [q for _, q, _, _ in open_scopes]
        if type(node) is ClassDef:
            bases = {_last(b) for b in node.bases}
            view = any(b and ("View" in b or "Handler" in b or "Resource" in b) for b in bases)
            open_scopes.append((last, node.name, view, True))
            continue
        fn = node
        assert isinstance(fn, FunctionDef | AsyncFunctionDef)
        in_view_class = bool(open_scopes) and open_scopes[-1][3] and open_scopes[-1][2]
        functions.append(
            FunctionFacts(
                fn.name,
                ".".join([module, *qual, fn.name]),
                rel,
                fn.lineno,
                last,
                names_in(first, last),
                _entry_reason(fn, rel, in_view_class, bool(qual)),
                module,
            )
        )
        open_scopes.append((last, fn.name, False, False))
    main_calls: set[str] = set()
    body = getattr(tree, "body", None)
    for stmt in body if isinstance(body, list) else []:
        if (is_main_file and type(stmt) not in (FunctionDef, AsyncFunctionDef)) or _is_main_guard(stmt):
            first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
            main_calls |= names_in(first, getattr(stmt, "end_lineno", None) or stmt.lineno)
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


class _Files(Mapping[str, "FileFacts"]):
    """The files of one scan root the analysis met: relative path → facts, decoded on access."""

    def __init__(self, cache: FactsCache) -> None:
        self.cache = cache
        self.by_rel: dict[str, str] = {}

    def __getitem__(self, rel: str) -> FileFacts:
        found = self.cache._get(self.by_rel[rel])
        return found if found is not None else EMPTY

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_rel)

    def __len__(self) -> int:
        return len(self.by_rel)


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
        """Content hash → facts (decoded)."""
        self._blobs: dict[str, bytes] = {}
        """Content hash → facts as read from disk, each decoded only when it is asked for (a
        second scan of an unchanged tree asks for almost none)."""
        self.used: set[str] = set()
        self.seen: dict[Path, _Files] = {}
        """Scan root → its files' facts, as the analysis met them in this run."""
        self.keys: dict[Path, dict[str, str]] = {}
        """Scan root → its files' cache keys (what :meth:`digest` of a root is made of)."""
        self.memo: dict[str, Any] = {}
        """Results derived from a whole tree's facts (the entry index), by :meth:`digest`."""
        self._memo_used: set[str] = set()
        self.parsed = 0
        self.dirty = False
        self._roots: dict[Path, Path] = {}
        if cache_dir is not None:
            try:
                with (Path(cache_dir) / self.FILE).open("rb") as fh:
                    data = pickle.load(fh)
                if isinstance(data, dict) and data.get("version") == self.version:
                    entries = data.get("entries")
                    if isinstance(entries, dict):
                        self._blobs = entries
                    memo = data.get("memo")
                    if isinstance(memo, dict):
                        self.memo = memo
            except (OSError, pickle.PickleError, EOFError, AttributeError, KeyError, TypeError, ValueError):
                self._blobs = {}

    def _get(self, k: str) -> FileFacts | None:
        found = self.entries.get(k)
        if found is None and k in self._blobs:
            try:
                decoded = pickle.loads(self._blobs.pop(k))
            except Exception:  # a damaged entry is parsed again
                return None
            if isinstance(decoded, FileFacts):
                self.entries[k] = found = decoded
        return found

    def _resolve(self, root: Path) -> Path:
        """``root`` with links resolved, once per root and run (resolving costs system calls)."""
        found = self._roots.get(root)
        if found is None:
            found = self._roots[root] = Path(root).resolve()
        return found

    def _files(self, root: Path) -> _Files:
        resolved = self._resolve(root)
        files = self.seen.get(resolved)
        if files is None:
            files = self.seen[resolved] = _Files(self)
        return files

    @staticmethod
    def key(data: bytes, rel: str) -> str:
        """The cache key of a file: its content and its path (qualified names depend on it)."""
        return hashlib.sha256(rel.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()

    def add_tree(
        self, root: Path, rel: str, data: bytes, tree: ast.AST | None, nodes: list[ast.AST] | None = None
    ) -> None:
        """Record the facts of a file of ``root`` that another stage has already parsed (and
        walked: ``nodes``, every node of ``tree``)."""
        k = self.key(data, rel)
        self.used.add(k)
        found = self._get(k)
        if found is None:
            try:
                found = file_facts(tree, rel, nodes) if tree is not None else EMPTY
            except RecursionError:
                found = EMPTY
            self.entries[k] = found
            self.dirty = True
        self._files(root).by_rel[rel] = k
        self.keys.setdefault(self._resolve(root), {})[rel] = k

    def note_key(self, root: Path, rel: str, k: str) -> bool:
        """Record a file of ``root`` by its :meth:`key` alone (the analysis found it unchanged
        by its stat record, without reading it); False when these facts are not stored, and
        the caller records it by :meth:`note` with its bytes."""
        if k not in self.entries and k not in self._blobs:
            return False
        self.used.add(k)
        self._files(root).by_rel[rel] = k
        self.keys.setdefault(self._resolve(root), {})[rel] = k
        return True

    def note(self, root: Path, rel: str, data: bytes) -> None:
        """Record a file of ``root`` the analysis did not parse (its result was cached)."""
        k = self.key(data, rel)
        self.used.add(k)
        if k not in self.entries and k not in self._blobs:
            self.facts(rel, data)
        self._files(root).by_rel[rel] = k
        self.keys.setdefault(self._resolve(root), {})[rel] = k

    def digest(self, root: Path, extra: str = "") -> str | None:
        """One hash of every file of ``root`` met in this run (None if none was): the key of
        results derived from the whole tree, so that an unchanged tree derives nothing again."""
        keys = self.keys.get(Path(root).resolve())
        if not keys:
            return None
        h = hashlib.sha256(extra.encode("utf-8", "surrogateescape"))
        for rel in sorted(keys):
            h.update(b"\0" + keys[rel].encode())
        return h.hexdigest()

    def recall(self, name: str, digest: str | None) -> Any:
        """A result derived earlier from a tree with this :meth:`digest`, or None."""
        if digest is None:
            return None
        key = f"{name}:{digest}"
        found = self.memo.get(key)
        if found is not None:
            self._memo_used.add(key)
        return found

    def remember(self, name: str, digest: str | None, value: Any) -> None:
        """Keep ``value`` (picklable, small) as derived from a tree with this :meth:`digest`."""
        if digest is None:
            return
        key = f"{name}:{digest}"
        self.memo[key] = value
        self._memo_used.add(key)
        self.dirty = True

    def files_of(self, root: Path) -> Mapping[str, FileFacts] | None:
        """Every file of ``root`` the analysis met in this run, or None if it did not scan it."""
        return self.seen.get(Path(root).resolve())

    def facts(self, rel: str, data: bytes) -> FileFacts:
        """The facts of a file, parsing it only when neither memory nor disk has them."""
        k = self.key(data, rel)
        self.used.add(k)
        found = self._get(k)
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
                # never a FIFO or device, never a file too large to parse (the analysis reports them)
                if regular_file_error(path) or path.stat().st_size > MAX_SOURCE_BYTES:
                    continue
                data = path.read_bytes()
            except (OSError, ValueError):
                continue
            out[rel] = self.facts(rel, data)
            self.keys.setdefault(self._resolve(root), {})[rel] = self.key(data, rel)
        return out

    def save(self) -> None:
        """Write the facts of the files seen in this run (entries of vanished files are dropped)."""
        if self.cache_dir is None or not self.dirty:
            return
        keep = {k: v for k, v in self._blobs.items() if k in self.used}
        keep.update(
            (k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL))
            for k, v in self.entries.items()
            if k in self.used
        )
        memo = {k: v for k, v in self.memo.items() if k in self._memo_used}
        target = Path(self.cache_dir) / self.FILE
        tmp = target.with_name(f"{self.FILE}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                pickle.dump(
                    {"version": self.version, "entries": keep, "memo": memo},
                    fh,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)
