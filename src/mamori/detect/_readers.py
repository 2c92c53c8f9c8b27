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
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from mamori.detect._access import is_access_line, parse_access
from mamori.detect._events import (
    FieldValue,
    LogEvent,
    auditd_logsource,
    bad_time,
    epoch_or_none,
    iso_from_epoch,
    json_event,
    parse_time,
    shown_time,
    syslog_logsource,
    windows_event,
)
from mamori.detect._w3c import W3CParser, is_w3c_line
from mamori.model import ScanError

_fast_loads: Callable[[str], Any]
try:  # orjson parses the evtx parser's JSON about twice as fast; the stdlib is the fallback
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads

_EVTX_MAGIC = b"ElfFile\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
MAX_OBJECT = 16 << 20
"""Largest JSON record read (characters); a bigger one is skipped and reported."""
MAX_NODES = 200_000
"""Most JSON nodes (objects, arrays, values) in one record; more is refused before building it."""
MAX_LINE = 1 << 20
"""Longest text line matched whole; the first MAX_LINE characters of a longer one are matched."""
MAX_SPOOL = 1 << 30
"""Largest EVTX stream (gzip, stdin) copied to a temporary file for the parser, which seeks."""
_READ_ERRORS = (OSError, EOFError, zlib.error)

FORMATS = ("evtx", "json", "access", "w3c", "syslog", "auditd", "text")

# --------------------------------------------------------------------------- line formats
# (access logs: _access.py; W3C: _w3c.py)

# Quantifiers over quoted text are possessive (``*+``): there is one way to match them, and a
# backtracking loop would keep a frame per character (hundreds of MB for a 1 MiB request).

_SYSLOG_5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]++|\\.)*+\])++)(?: (?P<msg>.*))?$"
)
_SYSLOG_3164 = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<tag>[^:\[\s]+)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<msg>.*)$"
)
_AUDIT_MSG = re.compile(r"msg=audit\((?P<t>\d+(?:\.\d+)?):(?P<serial>\d+)\):?")
_AUDIT_KV = re.compile(r"([A-Za-z_][\w-]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
_SD_ELEMENT = re.compile(r"\[([^\s\]]+)((?:\s+[^\s=\]]+=\"(?:[^\"\\]++|\\.)*+\")*+)\]")
_SD_PARAM = re.compile(r"([^\s=\]]+)=\"((?:[^\"\\]++|\\.)*+)\"")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _syslog_3164_time(text: str) -> float | None:
    try:
        month = _MONTHS[text[:3]]
        day = int(text[4:6])
        hh, mm, ss = (int(x) for x in text[7:15].split(":"))
        now = datetime.now(tz=UTC)
        d = datetime(now.year, month, day, hh, mm, ss, tzinfo=UTC)
        if d > now and (d - now).days > 1:
            d = d.replace(year=now.year - 1)  # December records read in January
    except (KeyError, ValueError):  # Feb 31, 25:61, Feb 29 of a year without it
        return None
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
        ts_text = m.group("ts") if m.group("ts") != "-" else ""
        t = parse_time(ts_text) if ts_text else None
        shown = shown_time(ts_text, t)
        pri = m.group("pri")
    else:
        m = _SYSLOG_3164.match(line)
        if m is None:
            return None
        program = m.group("tag")
        fields.update(
            {"host": m.group("host"), "program": program, "pid": m.group("pid"), "message": m.group("msg")}
        )
        ts_text = m.group("ts")
        t = _syslog_3164_time(ts_text)
        shown = iso_from_epoch(t) if t is not None else ""
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
        timestamp=shown,
        host=host if isinstance(host, str) else "",
        problems=(bad_time(ts_text),) if ts_text and t is None else (),
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
    problems: tuple[str, ...] = ()
    if m is not None:
        t = epoch_or_none(float(m.group("t"))) if len(m.group("t")) <= 32 else None
        if t is None:
            problems = (bad_time(m.group("t")),)
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
        problems=problems,
    )


def parse_text(line: str, path: str, record: int) -> LogEvent:
    """Any other line: one ``message`` field, searchable by keyword rules."""
    return LogEvent(path=path, record=record, fields={"message": line})


LINE_PARSERS: dict[str, Callable[[str, str, int], LogEvent | None]] = {
    "access": parse_access,
    "syslog": parse_syslog,
    "auditd": parse_auditd,
    "text": parse_text,
}


def sniff_line(line: str) -> str:
    """Guess the text format of a line: access, w3c (a ``#Fields:``-style directive), auditd,
    syslog or text."""
    if is_w3c_line(line):
        return "w3c"
    if line.startswith(("type=", "node=")) and "msg=audit(" in line:
        return "auditd"
    if is_access_line(line):
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
        first = text.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        kind = sniff_line(first) if text[:1] == b"[" else "text"
        return kind if kind != "text" else "json"  # "[client] …" lines are not a JSON array
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


def not_regular(path: str) -> str:
    """Why ``path`` is not read as a log file (a device, FIFO, socket, folder), or "" when it is."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such log file"
    except OSError as exc:
        return f"cannot open: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return ""
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a folder"
        if stat.S_ISDIR(mode)
        else "not a regular file"
    )
    return f"{kind}, not a log file; not read (to read a stream, pipe it to 'mamori detect -')"


def _report(ev: LogEvent, errors: list[ScanError]) -> LogEvent:
    for p in ev.problems:
        errors.append(ScanError(path=ev.path, line=ev.record, message=p))
    return ev


def read_events(path: str, errors: list[ScanError], fmt: str | None = None) -> Iterator[LogEvent]:
    """Stream the events of one file (``-`` = stdin); problems are appended to ``errors``.

    Never raises for what the file holds: a record with an odd field (an impossible date, a
    5,000-digit number) is still yielded, its problem reported; a record that cannot be read at
    all is reported and skipped; a file that breaks off (truncated gzip) ends with an error.
    Memory stays bounded by :data:`MAX_LINE`, :data:`MAX_OBJECT` and :data:`MAX_NODES`.
    """
    if path != "-":
        why = not_regular(path)
        if why:
            errors.append(ScanError(path=path, message=why))
            return
    if path != "-" and fmt in (None, "evtx"):
        # EVTX is read by path: the name or one small read decides, no buffered stream is set up
        if path.lower().endswith(".evtx"):  # the parser checks the header
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
            if isinstance(fh, gzip.GzipFile) and not head:
                head = fh.peek(4096)[:4096]
        except (*_READ_ERRORS, gzip.BadGzipFile) as exc:
            errors.append(ScanError(path=path, message=f"cannot read: {exc}"))
            return
        kind = fmt or sniff(head, path.removesuffix(".gz"))
        try:
            if kind == "evtx":
                yield from _read_evtx(fh, path, errors)
            elif kind == "json":
                yield from _read_json(fh, path, errors)
            else:
                yield from _read_lines(fh, path, errors, None if kind == "text" and fmt is None else kind)
        except _READ_ERRORS as exc:  # a truncated or corrupt gzip stream, a read error
            errors.append(ScanError(path=path, message=f"stopped reading: {exc}"))
    finally:
        if path != "-":
            fh.close()


def _spool(fh: IO[bytes], path: str, errors: list[ScanError]) -> tempfile._TemporaryFileWrapper[bytes] | None:
    """Copy an EVTX stream (gzip, stdin) to a temporary file in chunks, up to :data:`MAX_SPOOL`."""
    tmp = tempfile.NamedTemporaryFile(prefix="mamori-evtx-", suffix=".evtx")  # noqa: SIM115
    total = 0
    try:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > MAX_SPOOL:
                errors.append(
                    ScanError(
                        path=path,
                        message=f"EVTX stream over {MAX_SPOOL >> 20} MiB once decompressed; refused",
                    )
                )
                tmp.close()
                return None
            tmp.write(chunk)
        tmp.flush()
    except (*_READ_ERRORS, gzip.BadGzipFile) as exc:
        errors.append(ScanError(path=path, message=f"cannot read the EVTX stream: {exc}"))
        tmp.close()
        return None
    return tmp


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

    spooled = None
    if fh is not None:  # the parser seeks: a stream goes to a temporary file, never into memory
        spooled = _spool(fh, path, errors)
        if spooled is None:
            return
    try:
        try:
            parser = evtx.PyEvtxParser(spooled.name if spooled is not None else path, number_of_threads=1)
        except (OSError, RuntimeError, ValueError) as exc:
            errors.append(ScanError(path=path, message=f"not a readable EVTX file: {exc}"))
            return
        yield from _evtx_records(parser, path, errors, after_id, ids)
    finally:
        if spooled is not None:
            spooled.close()


def _evtx_records(
    parser: Any, path: str, errors: list[ScanError], after_id: int, ids: list[int] | None
) -> Iterator[LogEvent]:
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
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            errors.append(ScanError(path=path, line=record, message=f"record {record}: bad JSON: {exc}"))
            continue
        try:
            ev = windows_event(obj, path, record)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            errors.append(
                ScanError(path=path, line=record, message=f"record {record}: unusable event: {exc}")
            )
            continue
        yield _report(ev, errors) if ev.problems else ev


_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{},:]')


def _json_extent(buf: str, pos: int) -> tuple[int, int] | None:
    """(end, nodes) of the JSON value starting at ``buf[pos]`` (an object or array), counted
    without building it; None when it does not end inside ``buf``."""
    depth = 0
    nodes = 0
    for m in _JSON_TOKEN.finditer(buf, pos):
        c = m.group()
        if c in "[{":
            depth += 1
            nodes += 1
        elif c in "]}":
            depth -= 1
            if depth <= 0:
                return m.end(), nodes
        elif c == ",":
            nodes += 1
        if depth <= 0:
            return None  # not a container at pos
    return None


def _decode_json(decoder: json.JSONDecoder, buf: str, pos: int) -> tuple[Any, int, str]:
    """One JSON value at ``pos``: (value, end, problem). A number past Python's digit limit is
    kept as text (and named in ``problem``) instead of failing the record."""
    try:
        obj, end = decoder.raw_decode(buf, pos)
        return obj, end, ""
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        if "digits" not in str(exc):
            raise
    obj, end = TEXT_INTS.raw_decode(buf, pos)
    return obj, end, "a number of more than 4,300 digits is kept as text; the record is still matched"


def _int_or_text(text: str) -> int | str:
    return int(text) if len(text) <= 4000 else text


TEXT_INTS = json.JSONDecoder(parse_int=_int_or_text)


def _read_json(fh: IO[bytes], path: str, errors: list[ScanError]) -> Iterator[LogEvent]:
    """Objects back to back (pretty-printed or one a line), or a JSON array of objects.

    A record over :data:`MAX_OBJECT` characters or :data:`MAX_NODES` nodes is measured, refused
    before it is built, and skipped; the records after it are still read.
    """
    decoder = json.JSONDecoder()
    reader = io.TextIOWrapper(fh, encoding="utf-8", errors="replace")
    buf = ""
    pos = 0
    line = 1  # line number at buf[pos]
    eof = False
    record = 0
    ws = " \t\r\n,"
    first = True
    want = _CHUNK
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
        if len(buf) - pos > _CHUNK and buf[pos] in "[{":
            # a big record: measure it (C-speed token scan) before building anything
            extent = _json_extent(buf, pos)
            if extent is None and not eof and len(buf) - pos < MAX_OBJECT:
                chunk = reader.read(want)
                want = min(want * 2, MAX_OBJECT)
                if chunk:
                    buf = buf[pos:] + chunk
                    pos = 0
                else:
                    eof = True
                continue
            if extent is None or extent[1] > MAX_NODES or extent[0] - pos > MAX_OBJECT:
                record += 1
                what = (
                    f"{extent[1]:,} nodes, over the limit of {MAX_NODES:,}"
                    if extent is not None and extent[1] > MAX_NODES
                    else f"over {MAX_OBJECT >> 20} MiB"
                )
                errors.append(
                    ScanError(
                        path=path, line=line, message=f"JSON record of {what}; refused before building it"
                    )
                )
                if extent is None:  # skip to the next line and go on
                    nl = buf.find("\n", pos)
                    while nl < 0 and not eof:
                        chunk = reader.read(_CHUNK)
                        if not chunk:
                            eof = True
                            break
                        line += buf.count("\n", pos)
                        buf, pos = chunk, 0
                        nl = buf.find("\n")
                    if nl < 0:
                        return
                    line += buf.count("\n", pos, nl) + 1
                    pos = nl + 1
                else:
                    line += buf.count("\n", pos, extent[0])
                    pos = extent[0]
                want = _CHUNK
                continue
        try:
            obj, end, problem = _decode_json(decoder, buf, pos)
        except RecursionError:
            obj, end, problem = None, -1, "JSON nested too deep to read"
        except json.JSONDecodeError as exc:
            if not eof and len(buf) - pos <= _CHUNK:
                chunk = reader.read(_CHUNK)
                if chunk:
                    buf = buf[pos:] + chunk
                    pos = 0
                    continue
                eof = True
                continue
            record += 1
            err_line = line + buf.count("\n", pos, exc.pos)
            errors.append(
                ScanError(path=path, line=err_line, message=f"bad JSON: {exc.msg}; matched as plain text")
            )
            nl = buf.find("\n", exc.pos if exc.pos > pos else pos)
            text = buf[pos : nl if nl >= 0 else len(buf)][:MAX_LINE].strip()
            if text:  # what it says is still matched: keyword rules see it
                yield parse_text(text, path, line)
            if nl < 0:
                return
            line = err_line + 1
            pos = nl + 1
            continue
        want = _CHUNK
        if end < 0:  # too deep: skip the line
            record += 1
            errors.append(ScanError(path=path, line=line, message=problem))
            nl = buf.find("\n", pos)
            if nl < 0:
                return
            line += 1
            pos = nl + 1
            continue
        record += 1
        try:
            ev = json_event(obj, path, record)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            errors.append(ScanError(path=path, line=line, message=f"unusable event: {exc}"))
        else:
            if problem:
                errors.append(ScanError(path=path, line=line, message=problem))
            yield _report(ev, errors) if ev.problems else ev
        line += buf.count("\n", pos, end)
        pos = end
        if pos > _CHUNK and not eof:
            buf = buf[pos:]
            pos = 0


def _lines(reader: io.TextIOWrapper, path: str, errors: list[ScanError]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line, each at most :data:`MAX_LINE` characters: the rest
    of a longer line is read past in chunks and dropped (reported), never held."""
    lineno = 0
    while True:
        raw = reader.readline(MAX_LINE)
        if not raw:
            return
        lineno += 1
        if len(raw) >= MAX_LINE and not raw.endswith("\n"):
            dropped = 0
            while True:
                more = reader.readline(MAX_LINE)
                dropped += len(more)
                if not more or more.endswith("\n"):
                    break
            errors.append(
                ScanError(
                    path=path,
                    line=lineno,
                    message=f"line of {MAX_LINE + dropped:,} characters: its first {MAX_LINE:,} were matched",
                )
            )
        yield lineno, raw.rstrip("\r\n")


def line_parser(kind: str) -> Callable[[str, str, int], LogEvent | None]:
    """The parser of one file's lines of format ``kind`` (W3C's keeps the file's columns: one
    per file)."""
    return W3CParser().parse if kind == "w3c" else LINE_PARSERS[kind]


def w3c_directive(parser: Callable[[str, str, int], LogEvent | None], line: str) -> bool:
    """Whether ``line`` is a directive of the W3C log ``parser`` reads (taken in: no event)."""
    owner = getattr(parser, "__self__", None)
    if isinstance(owner, W3CParser) and line.startswith("#"):
        owner.directive(line)
        return True
    return False


def _read_lines(fh: IO[bytes], path: str, errors: list[ScanError], kind: str | None) -> Iterator[LogEvent]:
    reader = io.TextIOWrapper(fh, encoding="utf-8", errors="replace")
    parser = line_parser(kind) if kind else None
    for lineno, line in _lines(reader, path, errors):
        if not line.strip():
            continue
        if parser is None:
            kind = sniff_line(line)
            parser = line_parser(kind)
        if w3c_directive(parser, line):
            continue
        ev = parse_line(parser, kind or "text", line, path, lineno, errors)
        if ev is not None:
            yield ev


def parse_line(
    parser: Callable[[str, str, int], LogEvent | None],
    kind: str,
    line: str,
    path: str,
    lineno: int,
    errors: list[ScanError],
) -> LogEvent | None:
    """One line through its format's parser; a line not in that format is matched as plain text
    (keyword rules still see it) and reported; problems of the record are reported."""
    try:
        ev = parser(line, path, lineno)
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:  # a parser bug must not stop a run
        ev = None
        errors.append(ScanError(path=path, line=lineno, message=f"unreadable {kind} line ({exc})"))
    if ev is None:
        if kind != "text":
            errors.append(
                ScanError(
                    path=path,
                    line=lineno,
                    message=f"not {'an' if kind[:1] in 'aeiou' else 'a'} {kind} log line; matched as plain text",
                )
            )
        return parse_text(line, path, lineno)
    return _report(ev, errors) if ev.problems else ev


def read_evtx_after(path: str, after_id: int, errors: list[ScanError], ids: list[int]) -> Iterator[LogEvent]:
    """The records of an EVTX file whose EventRecordID is above ``after_id`` (``--follow``).

    ``ids`` receives the highest EventRecordID of the file (empty when it has no record).
    """
    yield from _read_evtx(None, path, errors, after_id=after_id, ids=ids)


_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 200
"""How much of a file found in a folder is looked at to decide whether it is a log."""
_SKIP_NAMES = frozenset({".gitignore", ".gitattributes", ".gitkeep", ".ds_store", "thumbs.db"})
_SKIP_SUFFIXES = (".pyc", ".pyo", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".svg", ".webp", ".pdf")


def sniff_log(path: Path) -> str:
    """Why a file found in a folder is not read as a log ("" when it looks like one).

    Content decides, not the name: EVTX magic, JSON, or a line in an access-log, syslog or
    auditd shape among the first ones (gzip is looked into). Binary files, images, compiled
    Python and ``.gitignore``-like files are not logs. Files named on the command line are
    read as given, whatever this says.
    """
    name = path.name.lower()
    if name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES):
        return "not a log file (by its name)"
    why = not_regular(str(path))
    if why:
        return why
    try:
        with _open_binary(str(path)) as fh:
            head = fh.read(_SNIFF_BYTES)
    except (*_READ_ERRORS, gzip.BadGzipFile) as exc:
        return f"cannot read: {exc}"
    if head.startswith(_EVTX_MAGIC):
        return ""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        return "empty"
    if text[:1] in (b"{", b"["):
        return ""
    # the lines decide before any binary byte does: a web server logs what clients send, and
    # one TLS handshake sent to its HTTP port (NUL bytes in a request line) must not hide the
    # whole log; only a file with no line in a log shape among its first ones is passed over
    for raw in head.splitlines()[:_SNIFF_LINES]:
        line = raw.decode("utf-8", errors="replace").strip()
        if line and sniff_line(line) != "text":
            return ""
    if b"\x00" in head:
        return "a binary file, not a log"
    return "no line in a log shape (access log, W3C/IIS, syslog, auditd, JSON, EVTX)"


def file_format(path: Path) -> str:
    """The format :func:`read_events` would read ``path`` as."""
    with _open_binary(str(path)) as fh:
        return sniff(_peek(fh), str(path).removesuffix(".gz"))
