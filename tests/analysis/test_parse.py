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


def test_tabs_mixed_with_spaces_read_as_python2_did() -> None:
    # ``return`` and ``print`` are indented with one tab: 8 columns, as Python 2 read it
    src = b"def f(x):\n    if x:\n\treturn 1\n    try:\n        y = 2\n\tprint(y)\n    except E:\n        pass\n"
    p = parse_source(src, "m.py")
    assert p.tree is not None, p.error
    func = p.tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    first, second = func.body
    assert isinstance(first, ast.If) and isinstance(first.body[0], ast.Return)
    assert first.body[0].lineno == 3
    assert isinstance(second, ast.Try) and [type(s) for s in second.body] == [ast.Assign, ast.Expr]


def test_tabs_that_do_not_line_up_stay_an_error_with_the_reason() -> None:
    p = parse_source(b"def f():\n        a = 1\n\t    b = 2\n", "m.py")
    assert p.tree is None
    assert "tabs as 8 columns" in p.error
