"""``setup.py`` and ``setup.cfg``: the dependencies a setuptools project declares.

``setup.py`` is read with :mod:`ast`, never executed (running a stranger's ``setup.py`` runs
their code). The literal lists of ``setup(install_requires=…, extras_require=…,
tests_require=…)`` are read, with a module-level name bound to a literal list followed once.
A value computed at run time (read from a file, built by a function) cannot be known without
running the file: it is reported as an error naming the keyword, so coverage lists it as not
checked instead of the project looking clean.

``setup.cfg``'s ``[options] install_requires`` / ``tests_require`` and
``[options.extras_require]`` are read line by line (the format's continuation lines), so each
requirement keeps its line. ``file:`` directives point at a requirements file, which is parsed
on its own when it is named like one.

Both are manifests: their ranges have no lockfile saying what is installed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mamori.inventory import _py_requirements
from mamori.inventory._py_common import (
    component,
    parse_requirement,
    pinned_version,
    read_text,
    requirement_range,
    short,
)
from mamori.inventory.interface import Component, ParseResult
from mamori.model import ScanError

SETUP_PY_SOURCE = "setup-py"
SETUP_CFG_SOURCE = "setup-cfg"

_KEYWORDS = {"install_requires": False, "tests_require": True}
"""Keyword -> whether its requirements are for development only."""


class _Collect:
    def __init__(self, rel: str, source: str) -> None:
        self.rel = rel
        self.source = source
        self.components: list[Component] = []
        self.errors: list[ScanError] = []

    def add(self, text: str, line: int, *, dev: bool | None, what: str) -> None:
        text = text.strip()
        if not text or text.startswith("#"):
            return
        req = parse_requirement(text)
        if isinstance(req, str):
            self.errors.append(ScanError(self.rel, f"{what}: {req}", line))
            return
        self.components.append(
            component(
                req.name,
                pinned_version(req),
                self.rel,
                line,
                source=self.source,
                direct=True,
                dev=dev,
                range_spec=requirement_range(req),
            )
        )

    def result(self) -> ParseResult:
        return ParseResult(components=tuple(self.components), errors=tuple(self.errors))


def _is_setup_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name == "setup"


def _bindings(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = <expr>`` (the last one wins, as at run time for straight-line code)."""
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            out[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            out[stmt.target.id] = stmt.value
    return out


def _strings(node: ast.expr, names: dict[str, ast.expr], depth: int = 0) -> list[tuple[str, int]] | None:
    """The string literals of a list/tuple (or a multi-line string), with lines; None if computed."""
    if isinstance(node, ast.Name) and depth < 3 and node.id in names:
        return _strings(names[node.id], names, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(text, node.lineno + i) for i, text in enumerate(node.value.splitlines())]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out: list[tuple[str, int]] = []
        for item in node.elts:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                out.append((item.value, item.lineno))
            elif isinstance(item, ast.Starred):
                inner = _strings(item.value, names, depth + 1)
                if inner is None:
                    return None
                out.extend(inner)
            else:
                return None
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, names, depth + 1), _strings(node.right, names, depth + 1)
        return None if left is None or right is None else left + right
    return None


def parse_setup_py(path: Path, rel: str) -> ParseResult:
    """The literal requirements of ``setup()`` in a ``setup.py``, read without running it."""
    text = read_text(path)
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        return ParseResult(
            errors=(
                ScanError(
                    rel,
                    f"not Python 3 syntax ({short(str(getattr(exc, 'msg', exc)))}): its dependencies "
                    "were not read",
                    line,
                ),
            )
        )
    names = _bindings(tree)
    out = _Collect(rel, SETUP_PY_SOURCE)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_setup_call(node)):
            continue
        for kw in node.keywords:
            if kw.arg is None:
                out.errors.append(
                    ScanError(
                        rel,
                        "setup(**…) passes its arguments from a computed mapping: dependencies not read "
                        "(mamori does not run setup.py); pin them in a requirements file or lockfile",
                        node.lineno,
                    )
                )
            elif kw.arg in _KEYWORDS or kw.arg == "extras_require":
                _keyword(out, kw, names)
    return out.result()


def _keyword(out: _Collect, kw: ast.keyword, names: dict[str, ast.expr]) -> None:
    arg = kw.arg or ""
    computed = (
        f"setup({arg}=…) is computed when setup.py runs, and mamori does not run it: its "
        "dependencies were not read; pin them in a requirements file or lockfile and scan that"
    )
    if arg == "extras_require":
        value = kw.value
        if isinstance(value, ast.Name) and value.id in names:
            value = names[value.id]
        if not isinstance(value, ast.Dict):
            out.errors.append(ScanError(out.rel, computed, kw.value.lineno))
            return
        for key, group in zip(value.keys, value.values, strict=True):
            found = _strings(group, names)
            label = key.value if isinstance(key, ast.Constant) else "?"
            if found is None or not isinstance(label, str):
                out.errors.append(ScanError(out.rel, computed, group.lineno))
                continue
            for text, line in found:
                out.add(text, line, dev=None, what=f"extras_require[{label!r}]")
        return
    found = _strings(kw.value, names)
    if found is None:
        out.errors.append(ScanError(out.rel, computed, kw.value.lineno))
        return
    for text, line in found:
        out.add(text, line, dev=_KEYWORDS[arg], what=arg)


def parse_setup_cfg(path: Path, rel: str) -> ParseResult:
    """``[options] install_requires``/``tests_require`` and ``[options.extras_require]``."""
    out = _Collect(rel, SETUP_CFG_SOURCE)
    section = ""
    key: str | None = None
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[:1] in " \t":  # a continuation line of the current key
            if key is not None:
                _cfg_value(out, path, section, key, stripped, number)
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip().lower()
            key = None
            continue
        name, sep, value = stripped.partition("=")
        if not sep:
            name, sep, value = stripped.partition(":")
        key = name.strip().lower().replace("-", "_")
        if not _wanted(section, key):
            key = None
            continue
        if value.strip():
            _cfg_value(out, path, section, key, value.strip(), number)
    return out.result()


def _wanted(section: str, key: str) -> bool:
    return section == "options.extras_require" or (section == "options" and key in _KEYWORDS)


def _cfg_value(out: _Collect, path: Path, section: str, key: str, text: str, line: int) -> None:
    if not _wanted(section, key):
        return
    where = f"[{section}] {key}"
    if text.startswith("file:"):
        for ref in text[5:].split(","):
            target = path.parent / ref.strip()
            if not (target.is_file() and _py_requirements.matches(target)):
                out.errors.append(
                    ScanError(
                        out.rel,
                        f"{where} = file: {ref.strip()}: not read (only files named like requirements*.txt "
                        "are parsed); pin the dependencies in a requirements file or lockfile",
                        line,
                    )
                )
        return
    dev = None if section == "options.extras_require" else _KEYWORDS[key]
    out.add(text, line, dev=dev, what=where)
