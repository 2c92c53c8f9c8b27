"""Untrusted JSON goes through one loader, :mod:`mamori._safejson` (issue 11).

Before it, a VEX document or a file given to ``share push`` nested 100,000 deep stopped the
command with a RecursionError traceback. Now every such reader refuses it with the file named,
exit 2, and the loader itself is checked as a property: any text is either decoded exactly as
:func:`json.loads` decodes it, or refused with a ParseError; never another exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import mamori, write_osv

from mamori import _safejson
from mamori.errors import ParseError

DEEP = "[" * 100_000 + "]" * 100_000

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_real_json_decodes_as_the_standard_library_does(value: Any) -> None:
    text = json.dumps(value)
    assert _safejson.loads(text, "x.json") == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}",:0123456789 \\\n\tabctrue', max_size=400) | st.text(max_size=200))
def test_any_text_is_decoded_or_refused_with_a_parse_error(text: str) -> None:
    try:
        expected: Any = json.loads(text)
    except (ValueError, RecursionError):
        expected = ParseError
    try:
        got: Any = _safejson.loads(text, "x.json")
    except ParseError as exc:
        assert "x.json" in str(exc) or exc.path == "x.json"
        got = ParseError
    assert got == expected or (got is ParseError and _safejson.max_bracket_depth(text) > _safejson.MAX_DEPTH)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=2_000))
def test_depth_is_capped_exactly(depth: int) -> None:
    text = "[" * depth + "]" * depth
    if depth <= _safejson.MAX_DEPTH:
        assert _safejson.loads(text, "d.json") is not None
    else:
        with pytest.raises(ParseError, match="nested"):
            _safejson.loads(text, "d.json")


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "package.json"
    os.mkfifo(fifo)
    with pytest.raises(ParseError, match="not a regular file"):
        _safejson.load(fifo, "package.json")


def test_vex_nested_too_deep_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("demo-pkg==1.0\n")
    write_osv(
        tmp_path / "adv",
        {
            "id": "GHSA-aaaa-bbbb-cccc",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
                }
            ],
        },
    )
    assert mamori("db", "import", tmp_path / "adv").code == 0
    vex = tmp_path / "deep.openvex.json"
    vex.write_text(DEEP)
    run = mamori("scan", proj, "--no-code", "--offline", "--vex", vex)
    assert run.code == 2, run.err
    assert "Traceback" not in run.err and "RecursionError" not in run.err
    assert "deep.openvex.json" in run.err and "nested" in run.err


@pytest.mark.parametrize("name", ["alerts.jsonl", "report.json"])
def test_share_push_of_a_deep_file_is_refused_before_any_connection(tmp_path: Path, name: str) -> None:
    body = '{"rule_id": ' + DEEP + "}\n" if name.endswith(".jsonl") else '{"a": ' + DEEP + "}"
    path = tmp_path / name
    path.write_text(body)
    # port 9 (discard) is not listening: a connection attempt would be a different error
    run = mamori(
        "share",
        "push",
        path,
        "--server",
        "http://127.0.0.1:9",
        "--collection",
        "c",
        "--token",
        "t",
        "--tlp",
        "green",
    )
    assert run.code == 2, run.err
    assert "Traceback" not in run.err
    assert name in run.err and "nested" in run.err


def test_db_import_refuses_a_deep_file_and_imports_the_rest(tmp_path: Path) -> None:
    adv = tmp_path / "adv"
    write_osv(adv, {"id": "GHSA-1111-2222-3333", "modified": "2024-01-01T00:00:00Z", "affected": []})
    (adv / "deep.json").write_text(DEEP)
    run = mamori("db", "import", adv, "--format", "json")
    assert "Traceback" not in run.err
    assert "deep.json" in run.err and "nested" in run.err
    status = json.loads(mamori("db", "status", "--format", "json").out)
    assert status["advisories"] == 1


_LONE = st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | _LONE,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_LONE, inner, max_size=4),
        max_leaves=20,
    )
)
def test_lone_surrogate_escapes_decode_to_text_every_writer_accepts(value: object) -> None:
    """``"\\ud800"`` is valid JSON whose decoded string no UTF-8 writer accepts: the loader makes
    every lone surrogate U+FFFD, in keys and values, nested at any depth."""
    text = json.dumps(value)  # ensure_ascii: surrogates become \\udXXX escapes
    got = _safejson.loads(text, "x.json")
    json.dumps(got, ensure_ascii=False).encode("utf-8")  # raises if one is left
