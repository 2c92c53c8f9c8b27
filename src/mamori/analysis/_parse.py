"""Parse Python source of any version into the standard-library ``ast`` the engine works on.

The engine runs on whatever interpreter mamori runs on (3.11 here), yet projects use newer syntax
(PEP 701 f-strings with nested quotes, ``type X = ...``, PEP 695 generics) or still hold Python 2
files. Three front ends are tried in turn, each keeping line numbers so findings point at the
right place:

1. ``ast.parse`` of this interpreter;
2. libcst's native parser (it reads 3.0–3.13 syntax), whose tree is lowered to 3.11 syntax
   (f-strings become a call of :data:`FSTRING_CALL`, type aliases plain assignments, type
   parameters are dropped) and then read by ``ast``;
3. lib2to3's fixers for Python 2 files (``print`` statements, ``except E, e`` …) where the
   interpreter still ships lib2to3.

A file none of them reads is reported as skipped with the reasons; it is never dropped silently.
"""

from __future__ import annotations

import ast
import itertools
import re
import warnings
from dataclasses import dataclass

FSTRING_CALL = "__mamori_fstring__"
"""Name of the call the libcst front end uses for f-strings it lowered; the engine treats it as
string building of its arguments."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed module, or the reason it could not be parsed."""

    tree: ast.Module | None
    front_end: str
    """``ast``, ``libcst`` or ``lib2to3``; empty when parsing failed."""
    error: str = ""
    error_line: int = 0


_LEADING_WS = re.compile(r"^[ \t]+", re.MULTILINE)

MAX_NESTING = 200
"""Deepest bracket nesting handed to the fallback parsers. CPython itself refuses more than 200
nested parentheses, so no valid module needs more; libcst's native parser overflows the C stack
(the process dies) somewhere past a thousand."""

_BRACKETS = re.compile(r"[^()\[\]{}]+")
_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def bracket_depth(text: str) -> int:
    """The deepest bracket nesting of ``text``, brackets in strings and comments counted too
    (an over-estimate is safe: it only keeps a fallback parser away)."""
    brackets = _BRACKETS.sub("", text)
    if not brackets:
        return 0
    return max(0, max(itertools.accumulate(map(_STEP.__getitem__, brackets))))


def parse_source(source: bytes, filename: str) -> Parsed:
    """Parse ``source`` with the first front end that reads it.

    Hostile shapes are errors, never a crash: a module nested too deep or with an expression too
    long for the parser (``RecursionError``/``MemoryError`` in ``ast``, or "too many nested
    parentheses") is reported without trying the fallbacks, which would overflow the C stack or
    take minutes on it.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Parsed(ast.parse(source, filename=filename), "ast")
    except (RecursionError, MemoryError):
        return Parsed(None, "", "nested too deep or an expression too long for the parser")
    except (SyntaxError, ValueError) as exc:
        first = exc
    if "too many nested" in str(getattr(first, "msg", "")):
        return Parsed(None, "", _describe(first), int(getattr(first, "lineno", 0) or 0))
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = source.decode("latin-1")
        except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
            return Parsed(None, "", f"could not decode: {exc}")
    reasons = [f"ast: {_describe(first)}"]
    if isinstance(first, TabError):
        # Python 2 read a tab as indentation to the next multiple of 8 columns, so a module
        # mixing tabs and spaces (still common in old apps) meant exactly that
        text = _LEADING_WS.sub(lambda m: m.group().expandtabs(8), text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return Parsed(ast.parse(text, filename=filename), "ast")
        except (RecursionError, MemoryError):
            return Parsed(None, "", "nested too deep or an expression too long for the parser")
        except (SyntaxError, ValueError) as exc:
            reasons.append(f"ast, tabs as 8 columns: {_describe(exc)}")
    depth = bracket_depth(text)
    if depth > MAX_NESTING:
        line = int(getattr(first, "lineno", 0) or 0)
        reasons.append(f"brackets nested {depth} deep, over the limit of {MAX_NESTING}")
        return Parsed(None, "", "; ".join(reasons), line)
    lowered = _lower_with_libcst(text)
    if isinstance(lowered, str):
        reasons.append(f"libcst: {lowered}")
    else:
        return Parsed(lowered, "libcst")
    py2 = _from_python2(text, filename)
    if isinstance(py2, str):
        reasons.append(f"lib2to3: {py2}")
    else:
        return Parsed(py2, "lib2to3")
    line = getattr(first, "lineno", 0) or 0
    return Parsed(None, "", "; ".join(reasons), int(line))


def _describe(exc: BaseException) -> str:
    msg = getattr(exc, "msg", None) or str(exc)
    line = getattr(exc, "lineno", None)
    return f"{msg} (line {line})" if line else str(msg)


def _lower_with_libcst(text: str) -> ast.Module | str:
    """Parse with libcst and lower 3.12+ constructs to code ``ast`` on 3.11 reads."""
    try:
        import libcst as cst
    except ImportError:  # pragma: no cover - libcst is a dependency
        return "libcst is not installed"
    try:
        module = cst.parse_module(text)
    except Exception as exc:  # libcst raises ParserSyntaxError and friends
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    class Concat(cst.CSTTransformer):
        """Implicit concatenation becomes ``+`` so that lowered f-strings may take part in it."""

        def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
            return False

        def leave_ConcatenatedString(
            self, original_node: cst.ConcatenatedString, updated_node: cst.ConcatenatedString
        ) -> cst.BaseExpression:
            pieces: list[str] = []
            node: cst.BaseExpression = original_node
            while isinstance(node, cst.ConcatenatedString):
                left = node.left
                pieces.append(module.code_for_node(left))
                pieces.append(" + " + module.code_for_node(node.whitespace_between))
                node = node.right
            pieces.append(module.code_for_node(node))
            try:
                expr = cst.parse_expression("(" + "".join(pieces) + ")")
            except Exception:
                return updated_node
            return expr.with_changes(
                lpar=[*original_node.lpar, *expr.lpar], rpar=[*expr.rpar, *original_node.rpar]
            )

    class Lower(cst.CSTTransformer):
        def leave_FormattedString(
            self, original_node: cst.FormattedString, updated_node: cst.FormattedString
        ) -> cst.BaseExpression:
            quote = updated_node.end
            prefix = updated_node.start[: len(updated_node.start) - len(quote)]
            prefix = prefix.replace("f", "").replace("F", "")
            pieces: list[str] = []
            for part in updated_node.parts:
                if isinstance(part, cst.FormattedStringText):
                    raw = part.value.replace("{{", "{").replace("}}", "}")
                    pieces.append(prefix + quote + raw + quote)
                elif isinstance(part, cst.FormattedStringExpression):
                    pieces.append("(" + module.code_for_node(part.expression) + ")")
            code = FSTRING_CALL + "(" + ", ".join(pieces) + ")"
            try:
                return cst.parse_expression(code)
            except Exception:
                return cst.SimpleString(prefix + quote + quote)

        def leave_TypeAlias(
            self, original_node: cst.TypeAlias, updated_node: cst.TypeAlias
        ) -> cst.BaseSmallStatement:
            return cst.Assign(targets=[cst.AssignTarget(target=updated_node.name)], value=updated_node.value)

        def leave_FunctionDef(
            self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
        ) -> cst.FunctionDef:
            return updated_node.with_changes(type_parameters=None)

        def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
            return updated_node.with_changes(type_parameters=None)

    try:
        lowered = module.visit(Concat()).visit(Lower())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(lowered.code)
    except Exception as exc:
        return f"could not lower to 3.11 syntax: {_describe(exc)}"


def _from_python2(text: str, filename: str) -> ast.Module | str:
    """Translate a Python 2 module with lib2to3's fixers (which keep line numbers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lib2to3 import refactor
    except ImportError:
        return "not available on this Python"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixers = refactor.get_fixers_from_package("lib2to3.fixes")
            tool = refactor.RefactoringTool(fixers)
            if not text.endswith("\n"):
                text += "\n"
            tree = tool.refactor_string(text, filename)
            return ast.parse(str(tree))
    except Exception as exc:
        return _describe(exc)
