"""Did the tests run the fix? Line coverage of each edit during the after-run (coverage.py).

Why coverage and not "the tests pass": a green run says nothing about a change no test reaches,
and most of the wrong fixes a tool makes sit in code the tests never touch. So the after-run is
wrapped in ``python -m coverage run`` and a fix counts as tested only when every changed
executable line ran (``def``, ``class`` and decorator lines run at import and say nothing; blank
lines and comments are not code). For a dependency upgrade the question is whether the tests
imported the upgraded package: coverage measures that package (``--source=NAME``) wherever it
is installed.

coverage.py is one of mamori's own dependencies; the test process gets it without anything being
installed into the project's environment: the ``coverage`` package is copied once into
``MAMORI_HOME/cache/coverage-VERSION/`` and that folder alone is put on the test process's
``PYTHONPATH`` (so nothing else of mamori's environment leaks into the tests; its C tracer is
used when the project's Python matches, the pure-Python one otherwise). The settings file and the
data file live in the scratch copy under relative names, so the run works wherever the sandbox
mounts the copy, and the project's own coverage configuration is never read.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mamori.fix._verify import TestCommand

RCFILE = ".mamori-coveragerc"
DATAFILE = ".mamori-coverage"
_COPY_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Hunk:
    """The executable statements an edit changed in one file: (first line, last line) spans."""

    path: str
    statements: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the after-run executed of the changed code."""

    measured: bool
    """False when coverage could not be collected (no data file, a runner that cannot be wrapped)."""
    why: str = ""
    changed: int = 0
    """Changed executable statements."""
    covered: int = 0
    uncovered: tuple[str, ...] = ()
    """``path:line`` of changed statements that did not run."""
    tests: tuple[str, ...] = ()
    """The tests that ran at least one changed statement (pytest/unittest contexts)."""
    imported: tuple[str, ...] = ()
    """For upgrades: files of the upgraded package the tests imported (relative to site-packages)."""

    @property
    def complete(self) -> bool:
        """Every changed executable statement ran."""
        return self.measured and self.changed > 0 and self.covered == self.changed


def coverage_home(cache: Path | None = None) -> Path | None:
    """A folder holding only the ``coverage`` package (copied once), for the test's PYTHONPATH."""
    try:
        import coverage
    except ImportError:
        return None
    if cache is None:
        from mamori.config import mamori_home

        cache = mamori_home() / "cache"
    home = cache / f"coverage-{coverage.__version__}"
    source = Path(coverage.__file__).parent
    with _COPY_LOCK:
        if not (home / "coverage" / "__init__.py").is_file():
            tmp = cache / f".coverage-{os.getpid()}-{threading.get_ident()}"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp / "coverage", ignore=shutil.ignore_patterns("__pycache__"))
            home.parent.mkdir(parents=True, exist_ok=True)
            try:
                tmp.rename(home)
            except OSError:  # another process copied it first
                shutil.rmtree(tmp, ignore_errors=True)
    return home


def wrap(command: TestCommand, workdir: Path, sources: Sequence[str], home: Path) -> TestCommand | None:
    """``command`` run under coverage measuring ``sources`` (folders or package names), or None
    when the runner is not a Python process mamori can wrap (tox, nox, npm, a shell script)."""
    argv = list(command.argv)
    if argv and (argv[0] == "{python}" or re.fullmatch(r"python[0-9.]*", Path(argv[0]).name)):
        rest = argv[1:]
    elif argv and Path(argv[0]).name in ("pytest", "py.test"):
        rest = ["-m", "pytest", *argv[1:]]
    else:
        return None
    if not rest or (rest[0] != "-m" and not rest[0].endswith(".py")):
        return None
    context = "test_function" if command.kind in ("pytest", "unittest") or "pytest" in rest[:2] else ""
    lines = [
        "[run]",
        "relative_files = True",
        "branch = False",
        "source =",
        *(f"    {s}" for s in sources),
    ]
    if context:
        lines.append(f"dynamic_context = {context}")
    (workdir / RCFILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    wrapped = ("{python}", "-m", "coverage", "run", f"--rcfile={RCFILE}", f"--data-file={DATAFILE}", *rest)
    return replace(command, argv=wrapped, pythonpath=(*command.pythonpath, str(home)))


def hunks(path: str, before: str, after: str) -> Hunk:
    """The executable statements of ``after`` that an edit from ``before`` changed or added."""
    changed: set[int] = set()
    a, b = before.splitlines(), after.splitlines()
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(range(j1 + 1, j2 + 1))
        elif tag == "delete" and j1 < len(b):
            changed.add(j1 + 1)  # the line after a deletion stands for it
    return Hunk(path, tuple(sorted(_statements(after, changed))))


def _statements(text: str, lines: Iterable[int]) -> set[tuple[int, int]]:
    """The innermost statement holding each line, as (first, last) line — for compound statements
    their header only; lines of ``def``/``class`` headers and decorators are left out."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    spans: list[tuple[int, int, ast.stmt]] = []
    decorators: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for d in node.decorator_list:
                decorators.update(range(d.lineno, (d.end_lineno or d.lineno) + 1))
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue  # a docstring (or a bare string) compiles to nothing that runs
        if isinstance(node, ast.stmt):
            end = node.end_lineno or node.lineno
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                end = body[0].lineno - 1  # the header of a compound statement
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    continue  # definitions run at import; their header says nothing
            spans.append((node.lineno, max(end, node.lineno), node))
    out: set[tuple[int, int]] = set()
    for line in lines:
        if line in decorators:
            continue
        holding = [(s, e) for s, e, _n in spans if s <= line <= e]
        if holding:
            out.add(min(holding, key=lambda se: se[1] - se[0]))
    return out


def measure(workdir: Path, edits: Sequence[Hunk], packages: Sequence[str] = ()) -> Coverage:
    """Read the data file the wrapped run left in ``workdir``: which changed statements ran, by
    which tests, and (for ``packages``) which files of those packages were imported."""
    try:
        from coverage import CoverageData
    except ImportError:
        return Coverage(False, "coverage.py is not installed with mamori")
    path = workdir / DATAFILE
    if not path.is_file():
        return Coverage(False, "the test run left no coverage data (its runner may start Python elsewhere)")
    data = CoverageData(basename=str(path))
    try:
        data.read()
    except Exception as exc:  # a truncated or foreign data file
        return Coverage(False, f"the coverage data could not be read: {exc}")
    files = {_relative(f, workdir): f for f in data.measured_files()}
    changed = covered = 0
    uncovered: list[str] = []
    tests: set[str] = set()
    for hunk in edits:
        measured = files.get(hunk.path)
        ran = set(data.lines(measured) or ()) if measured else set()
        contexts = data.contexts_by_lineno(measured) if measured else {}
        for first, last in hunk.statements:
            changed += 1
            hit = [ln for ln in range(first, last + 1) if ln in ran]
            if hit:
                covered += 1
                for ln in hit:
                    tests.update(c for c in contexts.get(ln, ()) if c)
            else:
                uncovered.append(f"{hunk.path}:{first}")
    imported: list[str] = []
    for name in packages:
        for f in files.values():
            parts = Path(f).parts
            if name in parts or f"{name}.py" in parts:
                at = parts.index(name) if name in parts else parts.index(f"{name}.py")
                imported.append("/".join(parts[at:]))
    return Coverage(
        True,
        changed=changed,
        covered=covered,
        uncovered=tuple(uncovered),
        tests=tuple(sorted(_test_name(t) for t in tests)),
        imported=tuple(sorted(set(imported))),
    )


def _relative(measured: str, workdir: Path) -> str:
    p = Path(measured)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(workdir.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _test_name(context: str) -> str:
    """``tests.test_app.test_login|run`` → ``tests.test_app.test_login``."""
    return context.split("|", 1)[0]


def import_names(python: str, distribution: str) -> tuple[str, ...]:
    """The top-level import names a distribution provides in ``python``'s environment (guessed
    from the name when the environment cannot say).

    Read from the distribution's metadata files (``top_level.txt``, else ``RECORD``) in the
    interpreter's site folders: nothing of the project's environment is executed.
    """
    import importlib.metadata

    from mamori.sandbox import python_mounts

    want = re.sub(r"[-_.]+", "-", distribution).lower()
    guess = (re.sub(r"[-.]+", "_", distribution).lower(),)
    sites = [
        str(site)
        for prefix in python_mounts(Path(python))
        for site in (prefix, *prefix.glob("lib/python*/site-packages"))
        if site.is_dir()
    ]
    names: set[str] = set()
    try:
        for dist in importlib.metadata.distributions(path=sites):
            name = dist.metadata["Name"] if dist.metadata else None
            if not name or re.sub(r"[-_.]+", "-", name).lower() != want:
                continue
            top = dist.read_text("top_level.txt")
            if top:
                names.update(line.strip() for line in top.splitlines() if line.strip())
                continue
            for f in dist.files or ():
                first = f.parts[0] if f.parts else ""
                if (
                    not first
                    or first.endswith((".dist-info", ".egg-info", ".pth"))
                    or first in ("..", "__pycache__")
                ):
                    continue
                names.add(first[:-3] if first.endswith(".py") else first)
    except (OSError, ValueError):
        return guess
    found = tuple(sorted(n for n in names if n.isidentifier() and not n.startswith("_")))
    return found or guess
