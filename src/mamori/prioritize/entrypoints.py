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

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mamori.model import Finding
from mamori.prioritize.interface import Reachability
from mamori.prioritize.reachability import _python_files
from mamori.pyfacts import ROUTE_DECORATORS, VIEW_METHODS, FactsCache, FileFacts

__all__ = ["ROUTE_DECORATORS", "VIEW_METHODS", "EntryIndex", "code_reachability", "entry_index"]


MAIN_ENTRY = "called from the program's __main__"


@dataclass(slots=True)
class _Function:
    name: str
    qualname: str
    path: str
    start: int
    end: int
    calls: frozenset[str] = frozenset()
    entry: str = ""
    """Why this function is an entry point (empty when it is not)."""


@dataclass(slots=True)
class EntryIndex:
    """The functions of a project, which are entry points, and which are reachable from them."""

    functions: list[_Function] = field(default_factory=list)
    reachable: dict[str, str] = field(default_factory=dict)
    """qualname → the entry point it is reached from."""
    entries: bool | None = None
    """Whether the project shows an entry point (None: decided from ``functions``)."""
    files: Mapping[str, FileFacts] | None = None
    """The facts the index was made from, when ``functions`` was not built (a remembered index)."""
    scripts: frozenset[str] = frozenset()
    main_calls: frozenset[str] = frozenset()
    """Names called under ``if __name__ == "__main__"`` (entry points of a remembered index)."""
    _by_path: dict[str, list[_Function]] | None = None

    @property
    def has_entries(self) -> bool:
        """True when the project shows at least one entry point."""
        if self.entries is not None:
            return self.entries
        return any(f.entry for f in self.functions)

    def enclosing(self, path: str, line: int) -> _Function | None:
        """The innermost function of ``path`` containing ``line``."""
        if self._by_path is None:
            self._by_path = {}
            for f in self.functions:
                self._by_path.setdefault(f.path, []).append(f)
        if path not in self._by_path and self.files is not None and path in self.files:
            self._by_path[path] = _functions_of(self.files[path], self.scripts, self.main_calls)
        best: _Function | None = None
        for f in self._by_path.get(path, ()):
            if f.start <= line <= f.end and (best is None or f.start >= best.start):
                best = f
        return best


def _functions_of(
    ff: FileFacts, scripts: frozenset[str], main_calls: frozenset[str] = frozenset()
) -> list[_Function]:
    out = []
    for fn in ff.functions:
        entry = fn.entry
        if not entry and f"{fn.module}:{fn.name}" in scripts:
            entry = "console script"
        if not entry and fn.name in main_calls:
            entry = MAIN_ENTRY
        out.append(_Function(fn.name, fn.qualname, fn.path, fn.start, fn.end, fn.calls, entry))
    return out


def entry_index(
    root: Path, *, facts: FactsCache | None = None, files: Mapping[str, FileFacts] | None = None
) -> EntryIndex:
    """Index the Python files under ``root`` (no code is run).

    ``files`` gives the facts of every file already (see :mod:`mamori.pyfacts`); otherwise they
    come from ``facts`` (a cache the analysis may have filled), parsing only what it lacks.
    """
    if files is None and facts is not None:
        files = facts.files_of(root)
    if files is None:
        cache = facts if facts is not None else FactsCache()
        files = cache.read_all(root, sorted(_python_files(root)))
    scripts = frozenset(_console_scripts(root))
    # an unchanged tree's index is remembered (the facts cache keeps it with the facts), so a
    # second scan does not walk the call graph again
    digest = facts.digest(root, "entry_index\0" + "\0".join(sorted(scripts))) if facts else None
    known_index = facts.recall("entry_index", digest) if facts is not None else None
    if known_index is not None:
        reachable, has, mains = known_index
        return EntryIndex(reachable=reachable, entries=has, files=files, scripts=scripts, main_calls=mains)
    index = EntryIndex()
    main_calls: set[str] = set()
    for rel in sorted(files):
        ff = files[rel]
        index.functions.extend(_functions_of(ff, scripts))
        main_calls |= ff.main_calls
    by_name: dict[str, list[_Function]] = {}
    for f in index.functions:
        by_name.setdefault(f.name, []).append(f)
    for name in main_calls:
        for f in by_name.get(name, []):
            f.entry = f.entry or MAIN_ENTRY
    queue = [f for f in index.functions if f.entry]
    for f in queue:
        index.reachable[f.qualname] = f"{f.qualname} ({f.entry})"
    by_qualname = {f.qualname: f for f in index.functions}
    known = by_name.keys()
    while queue:
        current = queue.pop()
        origin = index.reachable[current.qualname]
        callees = [c for name in current.calls & known for c in by_name[name]]
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
    if facts is not None:
        facts.remember("entry_index", digest, (index.reachable, index.has_entries, frozenset(main_calls)))
    return index


def _console_scripts(root: Path) -> set[str]:
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
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
