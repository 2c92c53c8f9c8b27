"""Log readers: every format, gzip, stdin, and bad records that are skipped with their position."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from mamori.detect import read_events
from mamori.detect._readers import parse_access, parse_auditd, parse_syslog
from mamori.model import ScanError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOGS = FIXTURES / "logs"


def _read(path: Path | str) -> tuple[list, list[ScanError]]:  # type: ignore[type-arg]
    errors: list[ScanError] = []
    return list(read_events(str(path), errors)), errors


def test_access_log_maps_to_sigma_webserver_fields_with_url_decoding() -> None:
    events, errors = _read(LOGS / "kev_exploits_access.log")
    assert not errors
    assert len(events) == sum(1 for _ in (LOGS / "kev_exploits_access.log").open())
    first = events[0]
    assert first.logsource.categories == frozenset({"webserver"})
    f = first.fields
    assert f["c-ip"] == "198.51.100.7"
    assert f["cs-method"] == "GET"
    assert f["sc-status"] == "302"
    assert f["cs-user-agent"] == "python-requests/2.28.1"
    assert str(f["cs-uri-stem"]).startswith("/${(#a=@org.apache.commons.io.IOUtils@toString(")
    assert first.timestamp == "2025-03-12T10:00:01.000000Z"
    q = parse_access(
        '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a%20b?x=1+2&y=%27 HTTP/1.0" 200 2326', "p", 1
    )
    assert q is not None
    assert q.fields["cs-uri-stem"] == "/a b" and q.fields["cs-uri-query"] == "x=1 2&y='"
    assert q.fields["cs-referer"] == "" and q.time is not None


def test_syslog_3164_and_5424_and_bad_line_reported_with_its_line() -> None:
    events, errors = _read(LOGS / "mixed_syslog.log")
    # the line that is not syslog is still matched, as plain text (keyword rules see it)
    assert [e.record for e in events if "program" not in e.fields] == [4]
    assert not next(e for e in events if e.record == 4).logsource.known
    events = [e for e in events if "program" in e.fields]
    assert [e.fields["program"] for e in events] == ["sshd", "CRON", "myapp"]
    assert "sshd" in events[0].logsource.services and "auth" in events[0].logsource.services
    assert events[0].fields["facility"] == "4" and events[0].fields["severity"] == "2"
    assert events[2].fields["iut"] == "3" and events[2].host == "web02"
    assert events[2].timestamp == "2025-03-12T10:15:03.003000Z"
    assert [(e.line, e.path.endswith("mixed_syslog.log")) for e in errors] == [(4, True)]
    assert parse_syslog("not syslog", "p", 1) is None


def test_auditd_records_decode_hex_values() -> None:
    events, errors = _read(LOGS / "auditd.log")
    assert not errors
    assert [e.fields["type"] for e in events] == ["SYSCALL", "EXECVE", "PROCTITLE"]
    assert events[0].fields["exe"] == "/usr/bin/chmod" and events[0].fields["key"] == "perm_mod"
    assert events[2].fields["proctitle"] == "chmod +x /tmp/implant"
    assert events[1].logsource.services == frozenset({"auditd"})
    assert parse_auditd("hello", "p", 1) is None


def test_json_lines_pretty_objects_and_arrays(tmp_path: Path) -> None:
    objs = [{"a": i, "nested": {"b": [1, 2]}} for i in range(3)]
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(o) for o in objs) + "\n")
    (tmp_path / "x.json").write_text("".join(json.dumps(o, indent=2) + "\n" for o in objs))
    (tmp_path / "arr.json").write_text(json.dumps(objs))
    for name in ("x.jsonl", "x.json", "arr.json"):
        events, errors = _read(tmp_path / name)
        assert not errors, name
        assert [e.fields["a"] for e in events] == ["0", "1", "2"]
        assert events[0].fields["nested.b"] == ("1", "2") and events[0].has_lists
        assert [e.record for e in events] == [1, 2, 3]


def test_corrupt_json_record_is_named_and_still_matched_as_text(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"a": 1}\n{"a": 2,,}\n{"a": 3}\n')
    events, errors = _read(p)
    assert [e.fields.get("a", e.fields.get("message")) for e in events] == ["1", '{"a": 2,,}', "3"]
    assert len(errors) == 1 and errors[0].line == 2 and errors[0].path == str(p)
    assert "matched as plain text" in errors[0].message


def test_gzip_is_transparent(tmp_path: Path) -> None:
    p = tmp_path / "access.log.gz"
    with gzip.open(p, "wt") as fh:
        fh.write((LOGS / "benign_access.log").read_text())
    events, errors = _read(p)
    plain, _ = _read(LOGS / "benign_access.log")
    assert not errors
    assert [e.fields for e in events] == [e.fields for e in plain]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (LOGS / "benign_access.log").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    events, errors = _read("-")
    assert not errors and len(events) == 7 and events[0].path == "-"


def test_evtx_from_gzip_and_corrupt_evtx(tmp_path: Path, shared_data: Path) -> None:
    sample = next((shared_data / "sigma" / "regression_data").rglob("*.evtx"))
    gz = tmp_path / "s.evtx.gz"
    gz.write_bytes(gzip.compress(sample.read_bytes()))
    a, _ = _read(sample)
    b, errors = _read(gz)
    assert not errors and [e.fields for e in a] == [e.fields for e in b]
    broken = tmp_path / "broken.evtx"
    data = bytearray(sample.read_bytes())
    data[4096 + 0x200 : 4096 + 0x200 + 24] = b"\xff" * 24  # the first record's header
    broken.write_bytes(bytes(data))
    _, errors = _read(broken)
    assert errors and all(e.path == str(broken) for e in errors)
    assert "record" in errors[0].message.lower()


def test_missing_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    events, errors = _read(tmp_path / "nope.log")
    assert events == [] and len(errors) == 1 and "no such log file" in errors[0].message
