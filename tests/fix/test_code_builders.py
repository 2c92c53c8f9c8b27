"""Rewrites of text built piece by piece (``"".join``, ``io.StringIO``, ``+=`` in branches) and of
request data stored in a session: the safe form appears and the code still works for valid input."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.fix.fixers import SESSION_KEY_PATTERN, SESSION_VALUE_PATTERN, CodeTarget, rewrite_code

from .conftest import FIXTURES

SOURCE = FIXTURES / "code" / "built_queries_and_session.py"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _rewrite(cwe: str, needle: str) -> tuple[str, str]:
    text = SOURCE.read_text()
    new, outcomes = rewrite_code(text, [CodeTarget("f", (cwe,), _line(text, needle))])
    assert outcomes["f"].fixed, outcomes["f"].summary
    compile(new, SOURCE.name, "exec")
    return text, new


def _load(tmp_path: Path, source: str) -> ModuleType:
    path = tmp_path / "rewritten.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("rewritten", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xpath_joined_from_pieces_gets_a_bound_variable() -> None:
    _text, new = _rewrite("CWE-643", "return root.xpath(query)")
    assert "query = '/Employees/Employee[@emplid=$p0]'" in new
    assert "root.xpath(query, p0=str(emplid))" in new


def test_xpath_written_into_a_stringio_gets_a_bound_variable() -> None:
    text = SOURCE.read_text()
    line = _line(text, "query = buf.getvalue()") + 1
    new, outcomes = rewrite_code(text, [CodeTarget("f", ("CWE-643",), line)])
    assert outcomes["f"].fixed, outcomes["f"].summary
    assert "query = '/Employees/Employee[name=$p0]'" in new and "root.xpath(query, p0=str(name))" in new


def test_stringio_written_in_a_branch_is_not_guessed() -> None:
    text = SOURCE.read_text().replace("    buf.write(name)\n", "    if name:\n        buf.write(name)\n")
    line = _line(text, "query = buf.getvalue()") + 1
    new, outcomes = rewrite_code(text, [CodeTarget("f", ("CWE-643",), line)])
    assert not outcomes["f"].fixed and new == text


def test_sql_joined_from_pieces_is_parameterised_and_resists_injection(tmp_path: Path) -> None:
    _text, new = _rewrite("CWE-89", "conn.execute(sql)")
    module = _load(tmp_path, new)
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE items(owner TEXT); INSERT INTO items VALUES ('sato'), ('ito');")
    assert module.count_rows(conn, "sato") == 1
    assert module.count_rows(conn, "x' OR '1'='1") == 0


@pytest.mark.skipif(sys.platform == "win32", reason="runs /bin/sh")
def test_command_built_in_branches_gets_every_value_quoted(tmp_path: Path) -> None:
    _text, new = _rewrite("CWE-78", "subprocess.run(command")
    assert 'command += f"echo {shlex.quote(str(text))}"' in new and "import shlex" in new
    module = _load(tmp_path, new)
    assert module.shout("hello") == "hello\n"
    marker = tmp_path / "pwned"
    assert module.shout(f"a; touch {marker}") == f"a; touch {marker}\n"
    assert not marker.exists()


def _request(lang: str | None) -> SimpleNamespace:
    return SimpleNamespace(session={}, GET={} if lang is None else {"lang": lang})


def test_session_value_from_the_request_is_validated_before_it_is_stored(tmp_path: Path) -> None:
    _text, new = _rewrite("CWE-501", 'request.session["lang"] =')
    assert (
        "\t# the visitor's choice" in new
        and "\tif not re.fullmatch(" in new
        and "\t\traise ValueError(" in new
    )
    assert new.index("# the visitor's choice") < new.index("checked_session_value =")
    module = _load(tmp_path, new)
    for ok in ("ja", "en-GB", "pt_BR"):
        assert module.remember_language(_request(ok)) == ok
    assert module.remember_language(_request(None)) == "en"
    for bad in ("<script>", "x\r\nSet-Cookie: a=b", "a" * 300, "' OR 1=1"):
        req = _request(bad)
        with pytest.raises(ValueError):
            module.remember_language(req)
        assert req.session == {}


def test_session_key_from_the_caller_is_validated(tmp_path: Path) -> None:
    _text, new = _rewrite("CWE-501", "request.session[name] = True")
    module = _load(tmp_path, new)
    req = _request(None)
    module.remember_flag(req, "seen_intro")
    assert req.session == {"seen_intro": True}
    with pytest.raises(ValueError):
        module.remember_flag(req, "../../etc")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_the_session_allow_lists_never_let_markup_quotes_or_line_breaks_through(value: str) -> None:
    import re

    for pattern in (SESSION_VALUE_PATTERN, SESSION_KEY_PATTERN):
        if re.fullmatch(pattern, value):
            assert not set(value) & set("<>\"'\r\n\x00;`$&|")
            assert len(value) <= 256
