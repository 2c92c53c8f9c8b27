"""A module's tree in parts, for the code cache: its *skeleton* (everything but the bodies of
its outermost functions) and each outermost function (a function not inside another one, at
module level or in a class body), keyed by its position.

The engine reads a function's body only when it runs the function; so a module that read
another one depends on that module's skeleton and on the functions it ran there. When a module
changes, :func:`same_parts` says which of those are still the same (positions included: a
function that moved is a changed one).
"""

from __future__ import annotations

import ast
import hashlib
import pickle
from collections.abc import Iterator

SKELETON = ""
"""The part key of a module's skeleton."""


def part_key(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The key of an outermost function: its position (unique within one module)."""
    return f"{node.lineno}:{node.col_offset}"


def outermost_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions of ``tree`` defined outside any other function (through statements only:
    a function is always a statement)."""
    stack: list[list[ast.stmt]] = [tree.body]
    while stack:
        for s in stack.pop():
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield s
                continue
            for name in ("body", "orelse", "finalbody"):
                sub = getattr(s, name, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    stack.append(sub)
            for h in getattr(s, "handlers", ()) or ():
                stack.append(h.body)
            for c in getattr(s, "cases", ()) or ():
                stack.append(c.body)


Fingerprint = tuple[bytes, dict[str, bytes]]
"""A module's skeleton digest and each outermost function's digest by key (:func:`split`)."""


def _digest(node: ast.AST) -> bytes:
    # pickle serialises every field and position of a node (C code: ~15x faster than
    # ast.dump); equal bytes mean equal trees, and two equal trees pickled apart at worst
    # differ (a module counted as changed), never the other way round
    return hashlib.blake2b(pickle.dumps(node, protocol=4), digest_size=16).digest()


def _imports(body: list[ast.stmt]) -> list[ast.stmt]:
    """The import statements anywhere in ``body`` (statements only: an import is one)."""
    found: list[ast.stmt] = []
    stack = [body]
    while stack:
        for s in stack.pop():
            if isinstance(s, (ast.Import, ast.ImportFrom)):
                found.append(s)
                continue
            for name in ("body", "orelse", "finalbody"):
                sub = getattr(s, name, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    stack.append(sub)
            for h in getattr(s, "handlers", ()) or ():
                stack.append(h.body)
            for c in getattr(s, "cases", ()) or ():
                stack.append(c.body)
    return found


def split(tree: ast.Module) -> Fingerprint:
    """The skeleton's digest and each outermost function's digest by key: digests, never
    source, so that the cache keeps nothing of a module's text (its secrets included). In the
    skeleton a function's body is replaced by the imports it holds (imports anywhere count for
    the module's frameworks), and the function's end position (its body's) is left out. The
    tree is changed while it is digested and restored before this returns."""
    functions = list(outermost_functions(tree))
    parts = {part_key(fn): _digest(fn) for fn in functions}
    saved = [(fn, fn.body, fn.end_lineno, fn.end_col_offset) for fn in functions]
    try:
        for fn in functions:
            fn.body = _imports(fn.body) or [ast.Pass()]
            # where the body ends is the body's (the engine reads no end position)
            fn.end_lineno = fn.end_col_offset = None
        skeleton = _digest(tree)
    finally:
        for fn, body, end_line, end_col in saved:
            fn.body, fn.end_lineno, fn.end_col_offset = body, end_line, end_col
    return skeleton, parts


def same_parts(old: Fingerprint, new: Fingerprint, parts: frozenset[str]) -> bool:
    """Whether ``parts`` (:data:`SKELETON` always included) are the same in two :func:`split`
    results."""
    if old[0] != new[0]:
        return False
    return all(old[1].get(k) == new[1].get(k) for k in parts if k != SKELETON)
