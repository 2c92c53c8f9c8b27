"""Read log files of every supported format as a stream of :class:`LogEvent`.

Formats: EVTX (the Rust-backed ``evtx`` parser), JSON and JSON Lines (also a JSON array, and
several pretty-printed objects back to back, read with ``JSONDecoder.raw_decode`` over a
sliding buffer), web server access logs (Apache/nginx common and combined), syslog (RFC 3164
and 5424), Linux auditd, and any other text as one ``message`` per line. Gzip is opened
transparently; ``-`` is stdin. Memory stays bounded: nothing holds more than one buffer window.

A record that cannot be read becomes a :class:`ScanError` naming the file and line (or record),
and reading goes on with the next one.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, unquote_plus

from mamori.detect._events import (
    WEBSERVER_LOGSOURCE,
    FieldValue,
    LogEvent,
    auditd_logsource,
    iso_from_epoch,
    json_event,
    parse_time,
    syslog_logsource,
    windows_event,
)
from mamori.model import ScanError

_fast_loads: Callable[[str], Any]
try:  # orjson parses the evtx parser's JSON about twice as fast; the stdlib is the fallback
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads

_EVTX_MAGIC = b"ElfFile\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_MAX_OBJECT = 64 << 20

FORMATS = ("evtx", "json", "access", "syslog", "auditd", "text")

# --------------------------------------------------------------------------- line formats

_ACCESS = re.compile(
    r'^(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
    r'(?P<status>\d{3}|-) (?P<size>\d+|-)(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?'
    r'(?: "?(?P<extra>.*))?$'
)
_SYSLOG_5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?$"
)
_SYSLOG_3164 = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<tag>[^:\[\s]+)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<msg>.*)$"
)
_AUDIT_MSG = re.compile(r"msg=audit\((?P<t>\d+(?:\.\d+)?):(?P<serial>\d+)\):?")
_AUDIT_KV = re.compile(r"([A-Za-z_][\w-]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
_SD_ELEMENT = re.compile(r"\[([^\s\]]+)((?:\s+[^\s=\]]+=\"(?:[^\"\\]|\\.)*\")*)\]")
_SD_PARAM = re.compile(r"([^\s=\]]+)=\"((?:[^\"\\]|\\.)*)\"")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _access_time(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()
    except ValueError:
        return None


def parse_access(line: str, path: str, record: int) -> LogEvent | None:
    """One access-log line (common or combined) mapped to Sigma's webserver field names."""
    m = _ACCESS.match(line)
    if m is None:
        return None
    request = m.group("request")
    parts = request.split(" ")
    method, target, version = "", request, ""
    if len(parts) >= 3 and parts[-1].startswith("HTTP/"):
        method, target, version = parts[0], " ".join(parts[1:-1]), parts[-1]
    elif len(parts) == 2:
        method, target = parts
    stem, _, query = target.partition("?")
    d_stem = unquote(stem, errors="replace")
    d_query = unquote_plus(query, errors="replace")
    t = _access_time(m.group("time"))
    fields: dict[str, FieldValue] = {
        "c-ip": m.group("ip"),
        "cs-username": m.group("user"),
        "date": iso_from_epoch(t) if t is not None else m.group("time"),
        "cs-method": method,
        "cs-uri": d_stem + ("?" + d_query if query else ""),
        "c-uri": d_stem + ("?" + d_query if query else ""),
        "cs-uri-stem": d_stem,
        "cs-uri-query": d_query,
        "cs-version": version,
        "sc-status": m.group("status"),
        "sc-bytes": m.group("size"),
        "cs-referer": (m.group("referer") or "").replace('\\"', '"'),
        "cs-user-agent": (m.group("ua") or "").replace('\\"', '"'),
        "cs-request": request,
    }
    return LogEvent(
        path=path,
        record=record,
        fields=fields,
        logsource=WEBSERVER_LOGSOURCE,
        time=t,
        timestamp=iso_from_epoch(t) if t is not None else "",
        host=m.group("ip"),
    )


def _syslog_3164_time(text: str) -> float | None:
    try:
        month = _MONTHS[text[:3]]
        day = int(text[4:6])
        hh, mm, ss = (int(x) for x in text[7:15].split(":"))
    except (KeyError, ValueError):
        return None
    now = datetime.now(tz=UTC)
    d = datetime(now.year, month, day, hh, mm, ss, tzinfo=UTC)
    if d > now.replace(year=now.year) and (d - now).days > 1:
        d = d.replace(year=now.year - 1)  # December records read in January
    return d.timestamp()


def parse_syslog(line: str, path: str, record: int) -> LogEvent | None:
    """One syslog line, RFC 5424 or RFC 3164 (BSD)."""
    fields: dict[str, FieldValue] = {}
    m = _SYSLOG_5424.match(line)
    t: float | None
    if m is not None:
        program = m.group("app") if m.group("app") != "-" else ""
        fields.update(
            {
                "host": m.group("host"),
                "program": program,
                "pid": m.group("procid"),
                "msgid": m.group("msgid"),
                "message": m.group("msg") or "",
            }
        )
        for el in _SD_ELEMENT.finditer(m.group("sd") or ""):
            for k, v in _SD_PARAM.findall(el.group(2)):
                fields.setdefault(k, v.replace('\\"', '"'))
        t = parse_time(m.group("ts")) if m.group("ts") != "-" else None
        pri = m.group("pri")
    else:
        m = _SYSLOG_3164.match(line)
        if m is None:
            return None
        program = m.group("tag")
        fields.update(
            {"host": m.group("host"), "program": program, "pid": m.group("pid"), "message": m.group("msg")}
        )
        t = _syslog_3164_time(m.group("ts"))
        pri = m.group("pri")
    if pri:
        fields["facility"] = str(int(pri) // 8)
        fields["severity"] = str(int(pri) % 8)
    host = fields.get("host")
    return LogEvent(
        path=path,
        record=record,
        fields=fields,
        logsource=syslog_logsource(program),
        time=t,
        timestamp=iso_from_epoch(t) if t is not None else "",
        host=host if isinstance(host, str) else "",
    )


def _audit_value(key: str, raw: str) -> str:
    if raw[:1] in "\"'":
        return raw[1:-1]
    if (key == "proctitle" or (key[:1] == "a" and key[1:].isdigit())) and _HEX.match(raw):
        try:
            return bytes.fromhex(raw).replace(b"\x00", b" ").decode("utf-8", errors="replace")
        except ValueError:
            return raw
    return raw


def parse_auditd(line: str, path: str, record: int) -> LogEvent | None:
    """One Linux audit record (``type=… msg=audit(time:serial): key=value …``)."""
    if not line.startswith(("type=", "node=")):
        return None
    fields: dict[str, FieldValue] = {}
    t: float | None = None
    m = _AUDIT_MSG.search(line)
    rest = line
    if m is not None:
        t = float(m.group("t"))
        fields["serial"] = m.group("serial")
        rest = line[: m.start()] + " " + line[m.end() :]
    for k, v in _AUDIT_KV.findall(rest):
        fields.setdefault(k, _audit_value(k, v))
    if "type" not in fields:
        return None
    host = fields.get("node")
    return LogEvent(
        path=path,
        record=record,
        fields=fields,
        logsource=auditd_logsource(),
        time=t,
        timestamp=iso_from_epoch(t) if t is not None else "",
        host=host if isinstance(host, str) else "",
    )


def parse_text(line: str, path: str, record: int) -> LogEvent | None:
    """Any other line: one ``message`` field, searchable by keyword rules."""
    return LogEvent(path=path, record=record, fields={"message": line})


LINE_PARSERS: dict[str, Callable[[str, str, int], LogEvent | None]] = {
    "access": parse_access,
    "syslog": parse_syslog,
    "auditd": parse_auditd,
    "text": parse_text,
}


def sniff_line(line: str) -> str:
    """Guess the text format of a line: access, auditd, syslog or text."""
    if line.startswith(("type=", "node=")) and "msg=audit(" in line:
        return "auditd"
    if _ACCESS.match(line):
        return "access"
    if _SYSLOG_5424.match(line) or _SYSLOG_3164.match(line):
        return "syslog"
    return "text"


def sniff(head: bytes, name: str = "") -> str:
    """The format of a stream from its first bytes (and its name as a hint)."""
    if head.startswith(_EVTX_MAGIC):
        return "evtx"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        return "json"
    lower = name.lower()
    if lower.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    for raw in head.splitlines():
        line = raw.decode("utf-8", errors="replace").strip()
        if line:
            return sniff_line(line)
    return "text"


# --------------------------------------------------------------------------- streams


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        raw: IO[bytes] = sys.stdin.buffer
    else:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    buffered: Any = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return buffered


def _peek(fh: IO[bytes], n: int = 4096) -> bytes:
    peek = getattr(fh, "peek", None)
    if peek is not None:
        data: bytes = peek(n)
        if data:
            return data[:n]
    return b""


def read_events(path: str, errors: list[ScanError], fmt: str | None = None) -> Iterator[LogEvent]:
    """Stream the events of one file (``-`` = stdin); problems are appended to ``errors``."""
    if path != "-" and fmt in (None, "evtx"):
        # EVTX is read by path: the name or one small read decides, no buffered stream is set up
        if path.lower().endswith(".evtx") and os.path.isfile(path):  # the parser checks the header
            yield from _read_evtx(None, path, errors)
            return
        try:
            with open(path, "rb", buffering=0) as raw:
                magic = raw.read(8)
        except OSError as exc:
            errors.append(ScanError(path=path, message=f"cannot open: {exc.strerror or exc}"))
            return
        if magic == _EVTX_MAGIC:
            yield from _read_evtx(None, path, errors)
            return
    try:
        fh = _open_binary(path)
    except OSError as exc:
        errors.append(ScanError(path=path, message=f"cannot open: {exc.strerror or exc}"))
        return
    try:
        try:
            head = _peek(fh)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            errors.append(ScanError(path=path, message=f"cannot read: {exc}"))
            return
        if isinstance(fh, gzip.GzipFile) and not head:
            head = fh.peek(4096)[:4096]
        kind = fmt or sniff(head, path.removesuffix(".gz"))
        if kind == "evtx":
            yield from _read_evtx(fh, path, errors)
        elif kind == "json":
            yield from _read_json(fh, path, errors)
        else:
            yield from _read_lines(fh, path, errors, None if kind == "text" and fmt is None else kind)
    finally:
        if path != "-":
            fh.close()


def _read_evtx(
    fh: IO[bytes] | None,
    path: str,
    errors: list[ScanError],
    *,
    after_id: int = 0,
    ids: list[int] | None = None,
) -> Iterator[LogEvent]:
    """EVTX records as events; with ``after_id``, records whose EventRecordID is not above it are
    skipped before their JSON is decoded (``--follow`` re-reads a file that grew). ``ids``, when
    given, receives the highest EventRecordID seen (its only element)."""
    import evtx

    try:
        # the parser seeks: a stream (stdin, gzip) is read into memory first; a path is not
        source: Any = path if fh is None else io.BytesIO(fh.read())
        parser = evtx.PyEvtxParser(source, number_of_threads=1)
    except (OSError, RuntimeError, ValueError) as exc:
        errors.append(ScanError(path=path, message=f"not a readable EVTX file: {exc}"))
        return
    it = parser.records_json()
    record = 0
    failures = 0
    loads = _fast_loads
    while True:
        try:
            rec: Any = next(it)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as exc:
            record += 1
            failures += 1
            errors.append(ScanError(path=path, line=record, message=f"corrupt EVTX record {record}: {exc}"))
            if failures > 1000:
                errors.append(ScanError(path=path, message="too many corrupt records; stopped reading"))
                return
            continue
        record += 1
        if ids is not None or after_id:
            rid = rec.get("event_record_id")
            if isinstance(rid, int):
                if ids is not None:
                    if not ids:
                        ids.append(rid)
                    elif rid > ids[0]:
                        ids[0] = rid
                if rid <= after_id:
                    continue
        try:
            obj = loads(rec["data"])
        except (ValueError, KeyError, TypeError) as exc:
            errors.append(ScanError(path=path, line=record, message=f"record {record}: bad JSON: {exc}"))
            continue
        yield windows_event(obj, path, record)


def _read_json(fh: IO[bytes], path: str, errors: list[ScanError]) -> Iterator[LogEvent]:
    """Objects back to back (pretty-printed or one a line), or a JSON array of objects."""
    decoder = json.JSONDecoder()
    reader = io.TextIOWrapper(fh, encoding="utf-8", errors="replace")
    buf = ""
    pos = 0
    line = 1  # line number at buf[pos]
    eof = False
    record = 0
    ws = " \t\r\n,"
    first = True
    while True:
        # skip separators (whitespace, commas and the brackets of a top-level array)
        while True:
            while pos < len(buf) and buf[pos] in ws:
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf) and first and buf[pos] in "\ufeff[":
                first = buf[pos] == "\ufeff"
                pos += 1
                continue
            if pos < len(buf) and buf[pos] == "]":
                pos += 1
                continue
            break
        if pos >= len(buf):
            if eof:
                return
            chunk = reader.read(_CHUNK)
            if not chunk:
                eof = True
                continue
            buf = buf[pos:] + chunk
            pos = 0
            continue
        first = False
        try:
            obj, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof and len(buf) - pos < _MAX_OBJECT:
                chunk = reader.read(_CHUNK)
                if chunk:
                    buf = buf[pos:] + chunk
                    pos = 0
                    continue
                eof = True
                continue
            record += 1
            err_line = line + buf.count("\n", pos, exc.pos)
            errors.append(ScanError(path=path, line=err_line, message=f"bad JSON: {exc.msg}"))
            nl = buf.find("\n", exc.pos if exc.pos > pos else pos)
            if nl < 0:
                return
            line = err_line + 1
            pos = nl + 1
            continue
        record += 1
        try:
            yield json_event(obj, path, record)
        except (TypeError, ValueError, AttributeError) as exc:
            errors.append(ScanError(path=path, line=line, message=f"unusable event: {exc}"))
        line += buf.count("\n", pos, end)
        pos = end
        if pos > _CHUNK and not eof:
            buf = buf[pos:]
            pos = 0


def _read_lines(fh: IO[bytes], path: str, errors: list[ScanError], kind: str | None) -> Iterator[LogEvent]:
    reader = io.TextIOWrapper(fh, encoding="utf-8", errors="replace")
    parser = LINE_PARSERS.get(kind) if kind else None
    for lineno, raw in enumerate(reader, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if parser is None:
            kind = sniff_line(line)
            parser = LINE_PARSERS[kind]
        ev = parser(line, path, lineno)
        if ev is None:
            errors.append(ScanError(path=path, line=lineno, message=f"not a {kind} log line; skipped"))
            continue
        yield ev


def read_evtx_after(path: str, after_id: int, errors: list[ScanError], ids: list[int]) -> Iterator[LogEvent]:
    """The records of an EVTX file whose EventRecordID is above ``after_id`` (``--follow``).

    ``ids`` receives the highest EventRecordID of the file (empty when it has no record).
    """
    yield from _read_evtx(None, path, errors, after_id=after_id, ids=ids)


def file_format(path: Path) -> str:
    """The format :func:`read_events` would read ``path`` as."""
    with _open_binary(str(path)) as fh:
        return sniff(_peek(fh), str(path).removesuffix(".gz"))
