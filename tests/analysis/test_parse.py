"""The parse front ends: 3.12+ syntax through libcst, Python 2 through lib2to3, lines kept."""

from __future__ import annotations

import ast

from mamori.analysis._parse import FSTRING_CALL, parse_source


def test_nested_fstring_quotes_are_lowered_with_lines_kept() -> None:
    src = b'x = 1\ny = f"{d["k"]}" "tail"\n'
    p = parse_source(src, "m.py")
    assert p.front_end == "libcst"
    assert p.tree is not None
    calls = [
        n for n in ast.walk(p.tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == FSTRING_CALL
    ]
    assert calls and calls[0].lineno == 2


def test_type_alias_and_generics() -> None:
    p = parse_source(b"type X = int\ndef f[T](a: T) -> T:\n    return a\n", "m.py")
    assert p.front_end == "libcst"
    assert p.tree is not None
    assert isinstance(p.tree.body[0], ast.Assign)


def test_python2_print_statement() -> None:
    p = parse_source(b'print "hi"\nexec "x = 1"\n', "m.py")
    assert p.front_end == "lib2to3"


def test_garbage_reports_reason_and_line() -> None:
    p = parse_source(b"def (:\n", "m.py")
    assert p.tree is None
    assert "ast:" in p.error and "libcst:" in p.error
    assert p.error_line == 1
