"""Which test command `mamori fix` finds for a project, on real folders: a Flask-style
``tests.py`` of unittest TestCases (pytest's default pattern skips it, unittest's finds it)
is run and its tests counted, so fixes of such projects can be verified."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mamori.fix._verify import detect_tests, run_tests

TESTS_PY = """import unittest

from app import greet


class GreetCase(unittest.TestCase):
    def test_greets(self):
        self.assertEqual(greet("ada"), "hello ada")

    def test_greets_empty(self):
        self.assertEqual(greet(""), "hello ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
"""


def test_a_root_tests_py_of_testcases_is_run_with_unittest(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('def greet(name):\n    return "hello " + name\n', encoding="utf-8")
    (tmp_path / "tests.py").write_text(TESTS_PY, encoding="utf-8")
    command = detect_tests(tmp_path, None, sys.executable)
    assert command is not None
    assert command.kind == "unittest", command
    result = run_tests(command, tmp_path, sys.executable)
    assert result.ok, result
    assert result.passed is not None and len(result.passed) == 2, result


@pytest.mark.parametrize("name", ["tests.py", "testing_utils.py"])
def test_a_test_named_module_without_unittest_is_not_a_test_suite(tmp_path: Path, name: str) -> None:
    (tmp_path / "app.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / name).write_text("def helper():\n    return 1\n", encoding="utf-8")
    assert detect_tests(tmp_path, None, sys.executable) is None
