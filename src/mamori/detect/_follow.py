"""Live detection: tail log files and raise alerts as lines are written (``--follow``).

Each file is first streamed to its end (in chunks of :data:`_CHUNK`, never loaded whole), then
polled every ``interval`` seconds (0.2 s by default, well inside the one-second goal) for
appended data; only whole lines are parsed, so a half-written line waits for its newline (a line
is held up to :data:`._readers.MAX_LINE` characters; the rest of a longer one is dropped and
reported). Log rotation loses nothing that reached the disk: when the file is renamed away and
replaced, what was appended to the old file since the last poll is read first (through the
still-open handle), then the new file from its start; when it is truncated in place
(``copytruncate``), the tail written before the truncation is read from the rotated copy
(``NAME.1`` or ``NAME-*``) when one holds it, then the file again from its start. Works for
line formats (access logs, syslog, auditd, JSON Lines, plain text) and EVTX.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mamori.detect._alert import Alert
from mamori.detect._detector import BoundedErrors, Detector
from mamori.detect._events import LogEvent, json_event
from mamori.detect._readers import (
    MAX_LINE,
    TEXT_INTS,
    line_parser,
    not_regular,
    parse_line,
    parse_text,
    read_evtx_after,
    sniff_line,
    w3c_directive,
)
from mamori.errors import InputError
from mamori.model import ScanError

_CHUNK = 1 << 20


@dataclass(slots=True)
class _Tail:
    path: str
    fh: object | None = None
    inode: int = -1
    offset: int = 0
    pending: bytes = b""
    lineno: int = 0
    kind: str | None = None
    evtx: bool = False
    stamp: tuple[int, int] = (-1, -1)
    """(size, mtime in ns) when an EVTX file was last read."""
    last_id: int = 0
    """The highest EventRecordID of an EVTX file evaluated so far."""
    overlong: bool = False
    """The current line passed MAX_LINE: the rest up to its newline is dropped."""
    parser: Callable[[str, str, int], LogEvent | None] | None = None
    """The file's line parser once its format is known (a W3C log's keeps its columns)."""


def _parse(tail: _Tail, line: str, errors: list[ScanError]) -> LogEvent | None:
    if tail.kind is None:
        tail.kind = "json" if line.lstrip().startswith("{") else sniff_line(line)
    if tail.kind == "json":
        try:
            obj: Any = json.loads(line)
        except RecursionError:
            errors.append(ScanError(path=tail.path, line=tail.lineno, message="JSON nested too deep to read"))
            return parse_text(line, tail.path, tail.lineno)
        except json.JSONDecodeError as exc:
            errors.append(
                ScanError(path=tail.path, line=tail.lineno, message=f"bad JSON: {exc}; matched as plain text")
            )
            return parse_text(line, tail.path, tail.lineno)
        except ValueError:  # a number past Python's digit limit: kept as text
            obj = TEXT_INTS.decode(line)
            errors.append(
                ScanError(
                    path=tail.path,
                    line=tail.lineno,
                    message="a number of more than 4,300 digits is kept as text",
                )
            )
        try:
            ev = json_event(obj, tail.path, tail.lineno)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            errors.append(ScanError(path=tail.path, line=tail.lineno, message=f"unusable event: {exc}"))
            return None
        for p in ev.problems:
            errors.append(ScanError(path=tail.path, line=tail.lineno, message=p))
        return ev
    if tail.parser is None:
        tail.parser = line_parser(tail.kind)
    if w3c_directive(tail.parser, line):
        return None
    return parse_line(tail.parser, tail.kind, line, tail.path, tail.lineno, errors)


def follow(
    paths: Sequence[str],
    detector: Detector,
    on_alert: Callable[[Alert], None],
    *,
    interval: float = 0.2,
    stop: threading.Event | None = None,
    on_error: Callable[[ScanError], None] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> None:
    """Tail ``paths`` until ``stop`` is set (or forever), calling ``on_alert`` for each alert.

    ``on_tick`` is called after every polling round (the CLI records alerts in batches there).
    """
    tails = []
    for p in paths:
        if p == "-":
            raise InputError("--follow reads files; stdin is already a stream (drop --follow)")
        why = not_regular(p)  # a FIFO would block the open, a device never ends
        if why:
            raise InputError(why, path=p)
        try:
            with open(p, "rb") as fh:
                is_evtx = fh.read(8) == b"ElfFile\x00"
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror or exc}", path=p) from exc
        tails.append(_Tail(p, evtx=is_evtx))
    errors: list[ScanError] = BoundedErrors()  # one poll over a huge append stays bounded too
    try:
        while True:
            detector.refresh_peer_indicators()
            for t in tails:
                if t.evtx:
                    _poll_evtx(t, detector, on_alert, errors)
                else:
                    _poll(t, detector, on_alert, errors)
            if errors:
                for e in errors:
                    detector.stats.errors.append(e)
                    if on_error is not None:
                        on_error(e)
                errors.clear()
            if on_tick is not None:
                on_tick()
            if stop is not None and stop.wait(interval):
                break
            if stop is None:
                time.sleep(interval)
    finally:
        for t in tails:
            if t.fh is not None:
                t.fh.close()  # type: ignore[attr-defined]


def _poll_evtx(
    t: _Tail, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]
) -> None:
    try:
        st = os.stat(t.path)
    except FileNotFoundError:
        return  # rotated away; wait for the new file
    stamp = (st.st_size, st.st_mtime_ns)
    if stamp == t.stamp:
        return
    t.stamp = stamp
    ids: list[int] = []
    for ev in read_evtx_after(t.path, t.last_id, errors, ids):
        for alert in detector.process(ev):
            on_alert(alert)
    if ids and ids[0] < t.last_id:  # cleared or replaced by a log with lower ids: all of it is new
        ids = []
        for ev in read_evtx_after(t.path, 0, errors, ids):
            for alert in detector.process(ev):
                on_alert(alert)
    if ids:
        t.last_id = ids[0]


def _poll(t: _Tail, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]) -> None:
    try:
        st = os.stat(t.path)
    except FileNotFoundError:
        st = None  # rotated away: drain the old handle, then wait for the new file
    if t.fh is not None and (st is None or st.st_ino != t.inode):
        _drain(t, detector, on_alert, errors)  # what reached the old file before the rename
        t.fh.close()  # type: ignore[attr-defined]
        t.fh = None
    if st is None:
        return
    if t.fh is not None and st.st_size < t.offset:  # truncated in place (copytruncate)
        _rotated_tail(t, detector, on_alert, errors)
        t.fh.close()  # type: ignore[attr-defined]
        t.fh = None
    if t.fh is None:
        t.fh = open(t.path, "rb")  # noqa: SIM115 - kept open while following
        t.inode = os.fstat(t.fh.fileno()).st_ino
        t.offset = 0
        t.pending = b""
        t.lineno = 0
        t.overlong = False
    _drain(t, detector, on_alert, errors)


def _drain(t: _Tail, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]) -> None:
    """Read the open handle from the offset to its end, a chunk at a time."""
    fh: Any = t.fh
    fh.seek(t.offset)
    while data := fh.read(_CHUNK):
        t.offset += len(data)
        _feed(t, data, detector, on_alert, errors)


def _rotated_tail(
    t: _Tail, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]
) -> None:
    """After a copytruncate, read what the copy holds past our offset (lines written just before)."""
    candidates = [t.path + ".1", *glob.glob(glob.escape(t.path) + "-*")]
    best: tuple[float, str] | None = None
    for c in candidates:
        try:
            cst = os.stat(c)
        except OSError:
            continue
        if cst.st_size >= t.offset and (best is None or cst.st_mtime > best[0]):
            best = (cst.st_mtime, c)
    if best is None:
        return
    try:
        with open(best[1], "rb") as copy:
            copy.seek(t.offset)
            while data := copy.read(_CHUNK):
                _feed(t, data, detector, on_alert, errors)
    except OSError:
        return
    if t.pending:  # the copy ends with the line the writer finished before truncating
        _feed(t, b"\n", detector, on_alert, errors)


def _feed(
    t: _Tail, data: bytes, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]
) -> None:
    lines = data.split(b"\n")
    last = lines.pop()  # an unfinished line waits for its newline
    for raw in lines:
        if t.overlong:  # the end of a line already cut at MAX_LINE
            t.overlong = False
            t.pending = b""
            continue
        buf = t.pending + raw if t.pending else raw
        t.pending = b""
        _line(t, buf, detector, on_alert, errors)
    if t.overlong:
        return
    t.pending += last
    if len(t.pending) > MAX_LINE:
        _line(t, t.pending[:MAX_LINE], detector, on_alert, errors)
        errors.append(
            ScanError(
                path=t.path,
                line=t.lineno,
                message=f"line over {MAX_LINE:,} bytes: its first {MAX_LINE:,} were matched",
            )
        )
        t.pending = b""
        t.overlong = True


def _line(
    t: _Tail, raw: bytes, detector: Detector, on_alert: Callable[[Alert], None], errors: list[ScanError]
) -> None:
    t.lineno += 1
    line = raw.decode("utf-8", errors="replace").rstrip("\r")
    if not line.strip():
        return
    ev = _parse(t, line, errors)
    if ev is None:
        return
    for alert in detector.process(ev):
        on_alert(alert)
