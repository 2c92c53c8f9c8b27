"""A module's tree in parts, for the code cache: its *skeleton* (everything but the bodies of
its outermost functions) and each outermost function (a function not inside another one, at
module level or in a class body), keyed by its position.

The engine reads a function's body only when it runs the function; so a module that read
another one depends on that module's skeleton and on the functions it ran there. When a module
changes, :func:`changed_parts` says which of those are still the same (positions included: a
function that moved is a changed one).
"""

from __future__ import annotations

import ast
import copy
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


def _dump(node: ast.AST) -> str:
    return ast.dump(node, include_attributes=True)


def split(tree: ast.Module) -> tuple[str, dict[str, str]]:
    """The skeleton's dump and each outermost function's dump by key. In the skeleton a
    function's body is replaced by the imports it holds (imports anywhere count for the
    module's frameworks), and the function's end position (its body's) is left out."""
    functions = {part_key(fn): _dump(fn) for fn in outermost_functions(tree)}
    bare = copy.deepcopy(tree)
    for fn in outermost_functions(bare):
        fn.body = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))] or [ast.Pass()]
        # where the body ends is the body's (the engine reads no end position)
        fn.end_lineno = fn.end_col_offset = None
    return _dump(bare), functions


def same_parts(
    old: tuple[str, dict[str, str]], new: tuple[str, dict[str, str]], parts: frozenset[str]
) -> bool:
    """Whether ``parts`` (:data:`SKELETON` always included) are the same in two :func:`split`
    results."""
    if old[0] != new[0]:
        return False
    return all(old[1].get(k) == new[1].get(k) for k in parts if k != SKELETON)
