"""Hostile logs cannot stop ``mamori detect``: every reader takes arbitrary bytes and lines.

Property tests feed each line parser and the file readers (every format, gzip too) arbitrary
input and assert that no exception escapes; the cases the hardening issue names (impossible
dates, huge numbers, markup, escape sequences, oversized lines and records, devices) are
checked one by one through the public reader and the CLI.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mamori.detect import read_events
from mamori.detect._readers import LINE_PARSERS, MAX_LINE, MAX_NODES, parse_line, sniff_line
from mamori.detect._w3c import W3CParser
from mamori.detect.command import detect_command
from mamori.model import ScanError

app = typer.Typer()
app.command()(detect_command)
runner = CliRunner()

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_LINE_SHAPES = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda d, t, rest: f'1.2.3.4 - - [{d}/Feb/2024:{t} +0000] "GET /{rest} HTTP/1.1" 200 5',
        st.integers(-5, 99),
        st.text("0123456789:+-", max_size=12),
        st.text(max_size=40),
    ),
    st.builds(
        lambda d, t, r: f"Feb {d} {t} host sshd[1]: {r}",
        st.integers(0, 99),
        st.text("0123456789:", min_size=8, max_size=8),
        st.text(max_size=40),
    ),
    st.builds(
        lambda t, r: f"type=SYSCALL msg=audit({t}:1): {r}",
        st.text("0123456789.e", max_size=400),
        st.text(max_size=40),
    ),
    st.builds(lambda t, r: f"<13>1 {t} h app - - - {r}", st.text(max_size=40), st.text(max_size=40)),
    # unescaped quotes in the request (Tomcat), and W3C (IIS) lines and directives
    st.builds(
        lambda a, b: f'1.2.3.4 - - [10/Feb/2024:10:00:00 +0000] "GET /{a}" HTTP/1.1" {b}',
        st.text(max_size=40),
        st.text(max_size=20),
    ),
    st.builds(
        lambda d, r: f"{d} 10.0.0.1 GET /{r} - 80 - 1.2.3.4 - - 200 0 0 7",
        st.text("0123456789-: ", max_size=20),
        st.text(max_size=40),
    ),
    st.builds(lambda r: f"#Fields: {r}", st.text(max_size=200)),
)

_W3C_HEAD = (
    "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time c-ip cs-uri-stem\r\n"
)


@SETTINGS
@given(line=_LINE_SHAPES)
def test_no_line_parser_raises(line: str) -> None:
    for kind, parser in [*LINE_PARSERS.items(), ("w3c", W3CParser().parse)]:
        errors: list[ScanError] = []
        ev = parse_line(parser, kind, line, "f.log", 1, errors)
        assert ev is not None  # a line is matched, at worst as plain text
    sniff_line(line)


@SETTINGS
@given(lines=st.lists(_LINE_SHAPES, max_size=8))
def test_a_w3c_log_of_any_lines_is_read(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    """The W3C parser keeps state (the columns of the last ``#Fields:``): any sequence of lines
    after a W3C header, directives among them, is read without an exception, batch and follow."""
    path = tmp_path_factory.mktemp("w") / "u_ex.log"
    path.write_text(_W3C_HEAD + "\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    list(read_events(str(path), []))
    list(read_events(str(path), [], "w3c"))


@SETTINGS
@given(
    data=st.binary(max_size=3000),
    gz=st.booleans(),
    fmt=st.sampled_from([None, "json", "access", "w3c", "syslog", "auditd", "text", "evtx"]),
)
def test_no_reader_raises_on_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, gz: bool, fmt: str | None
) -> None:
    path = tmp_path_factory.mktemp("h") / ("x.log.gz" if gz else "x.log")
    path.write_bytes(gzip.compress(data) if gz else data)
    errors: list[ScanError] = []
    list(read_events(str(path), errors, fmt))


@SETTINGS
@given(
    prefix=st.sampled_from([b"", b"\x1f\x8b", b"ElfFile\x00", b"{", b"[", b"type=x msg=audit("]),
    data=st.binary(max_size=2000),
)
def test_no_reader_raises_on_hostile_headers(
    tmp_path_factory: pytest.TempPathFactory, prefix: bytes, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("h") / "x.json"
    path.write_bytes(prefix + data)
    list(read_events(str(path), []))


@SETTINGS
@given(
    obj=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=30,
    )
)
def test_any_json_value_is_read(tmp_path_factory: pytest.TempPathFactory, obj: object) -> None:
    path = tmp_path_factory.mktemp("h") / "x.jsonl"
    path.write_text(
        json.dumps({"time": obj, "Event": obj, "x": obj}) + "\n" + json.dumps(obj) + "\n", encoding="utf-8"
    )
    list(read_events(str(path), []))


def _read(path: Path) -> tuple[list, list[ScanError]]:
    errors: list[ScanError] = []
    return list(read_events(str(path), errors)), errors


ATTACK = '"GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1" 200 5 "-" "curl"'


@pytest.mark.parametrize(
    "stamp",
    [
        "31/Feb/2024:10:00:00 +0000",
        "10/Feb/2024:25:61:00 +0000",
        "10/Feb/0000:10:00:00 +0000",
        "10/Feb/2024:10:00:00 +9999",
    ],
)
def test_access_line_with_an_impossible_date_still_alerts(tmp_path: Path, stamp: str) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        f"1.2.3.4 - - [{stamp}] {ATTACK}\n1.2.3.4 - - [10/Feb/2024:10:00:00 +0000] {ATTACK}\n",
        encoding="utf-8",
    )
    events, errors = _read(log)
    assert [e.record for e in events] == [1, 2]
    assert events[0].fields["date"] == stamp and events[0].time is None
    assert [(e.line, "not a real time" in e.message) for e in errors] == [(1, True)]
    result = runner.invoke(app, [str(log), "--format", "jsonl", "--no-record"])
    records = {json.loads(x)["source"]["record"] for x in result.stdout.splitlines()}
    assert records == {1, 2}  # the Feb 31 attack is not unseen


@pytest.mark.parametrize(
    "line",
    [
        "Feb 31 10:00:00 web sshd[1]: Failed password for root from 1.2.3.4",
        "Feb 10 25:61:00 web sshd[1]: Failed password for root from 1.2.3.4",
        "type=USER_AUTH msg=audit(99999999999999999999999:1): res=failed",
        "type=USER_AUTH msg=audit(" + "9" * 5000 + ":1): res=failed",
        "<13>1 99999-01-01T00:00:00+25:00 h app - - - boom",
    ],
)
def test_syslog_and_auditd_with_impossible_times_are_kept(tmp_path: Path, line: str) -> None:
    log = tmp_path / "x.log"
    log.write_text(line + "\n", encoding="utf-8")
    events, errors = _read(log)
    assert len(events) == 1 and events[0].time is None
    assert errors and errors[0].line == 1


def test_json_with_a_5000_digit_number_and_huge_epoch_is_matched(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_text(
        '{"n": ' + "7" * 5000 + ', "message": "evil"}\n{"time": "1e300", "message": "two"}\n{"ok": 1}\n',
        encoding="utf-8",
    )
    events, errors = _read(log)
    assert [e.record for e in events] == [1, 2, 3]
    assert events[0].fields["n"] == "7" * 5000
    assert any("4,300 digits" in e.message for e in errors) and any(
        "not a real time" in e.message for e in errors
    )


def test_markup_and_escape_sequences_are_printed_inert(tmp_path: Path) -> None:
    (tmp_path / "[bold]x[").mkdir()
    log = tmp_path / "[bold]x[" / "x].log"  # the path reads "[bold]x[/x].log"
    log.write_text(f"[/x]\x1b]0;pwn\x07 - - [10/Feb/2024:10:00:00 +0000] {ATTACK}\n", encoding="utf-8")
    result = runner.invoke(app, [str(log), "--no-record"])
    assert result.exit_code == 1, result.output
    assert "[bold]x[/x].log" in result.stdout and "\x1b" not in result.stdout and "\\x1b" in result.stdout


def test_a_40_mb_line_is_read_in_bounded_pieces(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with log.open("w", encoding="utf-8") as fh:
        fh.write(f"1.2.3.4 - - [10/Feb/2024:10:00:00 +0000] {ATTACK}\n")
        fh.write("A" * (40 << 20) + "\n")
        fh.write(f"1.2.3.4 - - [10/Feb/2024:10:00:01 +0000] {ATTACK}\n")
    events, errors = _read(log)
    assert [e.record for e in events] == [1, 2, 3]
    assert len(str(events[1].fields["message"])) == MAX_LINE
    assert any(e.line == 2 and "were matched" in e.message for e in errors)


def test_a_json_record_of_millions_of_nodes_is_refused_before_building(tmp_path: Path) -> None:
    log = tmp_path / "x.json"
    log.write_text('{"a": [' + ",".join(["{}"] * (MAX_NODES * 5)) + ']}\n{"after": "ok"}\n', encoding="utf-8")
    events, errors = _read(log)
    assert [e.fields for e in events] == [{"after": "ok"}]
    assert any("refused before building it" in e.message for e in errors)


def test_gzipped_evtx_is_streamed_to_disk(tmp_path: Path, shared_data: Path) -> None:
    sample = next((shared_data / "sigma" / "regression_data").rglob("*.evtx"))
    gz = tmp_path / "s.evtx.gz"
    gz.write_bytes(gzip.compress(sample.read_bytes()))
    events, errors = _read(gz)
    plain, _ = _read(sample)
    assert len(events) == len(plain) > 0 and not errors


def test_devices_and_fifos_named_like_logs_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "access.log"
    os.mkfifo(fifo)
    for p in (fifo, Path("/dev/zero")):
        events, errors = _read(p)
        assert events == [] and "not a log file" in errors[0].message
    result = runner.invoke(app, [str(fifo), "--no-record"])
    assert result.exit_code != 0 and "FIFO" in str(result.exception or result.output)


_SURROGATE_TEXT = st.text(
    st.one_of(
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.sampled_from("union select' <>/")
    ),
    max_size=30,
)


@SETTINGS
@given(key=_SURROGATE_TEXT, value=_SURROGATE_TEXT, fmt=st.sampled_from(["jsonl", "json", "stix"]))
def test_lone_surrogates_in_a_json_log_stop_nothing(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: str, fmt: str
) -> None:
    """``{"q": "\\ud800 union select"}`` is valid JSON text that no UTF-8 writer accepts back:
    it crashed ``-o`` and the results database. Every output is still written, the attack seen."""
    folder = tmp_path_factory.mktemp("s")
    log = folder / "app.jsonl"
    line = {"cs-uri-query": value + " union select password from users", key or "k": value}
    log.write_text(json.dumps(line) + "\n", encoding="ascii")  # json.dumps escapes the surrogates
    out = folder / f"alerts.{fmt}"
    result = runner.invoke(app, [str(log), "--format", fmt, "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output  # the SQL injection alert
    text = out.read_text(encoding="utf-8")
    if fmt == "stix":
        assert json.loads(text)["type"] == "bundle"
    else:
        assert "union select" in text.lower()
