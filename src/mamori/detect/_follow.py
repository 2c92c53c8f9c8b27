"""Live detection: tail log files and raise alerts as lines are written (``--follow``).

Each file is read to its end, then polled every ``interval`` seconds (0.2 s by default, well
inside the one-second goal) for appended data; only whole lines are parsed, so a half-written
line waits for its newline. A file that shrinks or is replaced (log rotation) is read again
from its start. Works for line formats: access logs, syslog, auditd, JSON Lines and plain text.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.detect._alert import Alert
from mamori.detect._detector import Detector
from mamori.detect._events import LogEvent, json_event
from mamori.detect._readers import LINE_PARSERS, read_evtx_after, sniff_line
from mamori.errors import InputError
from mamori.model import ScanError


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


def _parse(tail: _Tail, line: str, errors: list[ScanError]) -> LogEvent | None:
    if tail.kind is None:
        tail.kind = "json" if line.lstrip().startswith("{") else sniff_line(line)
    if tail.kind == "json":
        try:
            return json_event(json.loads(line), tail.path, tail.lineno)
        except (ValueError, TypeError) as exc:
            errors.append(ScanError(path=tail.path, line=tail.lineno, message=f"bad JSON: {exc}"))
            return None
    ev = LINE_PARSERS[tail.kind](line, tail.path, tail.lineno)
    if ev is None:
        errors.append(
            ScanError(path=tail.path, line=tail.lineno, message=f"not a {tail.kind} log line; skipped")
        )
    return ev


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
        try:
            with open(p, "rb") as fh:
                is_evtx = fh.read(8) == b"ElfFile\x00"
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror or exc}", path=p) from exc
        tails.append(_Tail(p, evtx=is_evtx))
    errors: list[ScanError] = []
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
        return  # rotated away; wait for the new file
    if t.fh is None or st.st_ino != t.inode or st.st_size < t.offset:
        if t.fh is not None:
            t.fh.close()  # type: ignore[attr-defined]
        t.fh = open(t.path, "rb")  # noqa: SIM115 - kept open while following
        t.inode = st.st_ino
        t.offset = 0
        t.pending = b""
        t.lineno = 0
    if st.st_size == t.offset:
        return
    fh = t.fh
    fh.seek(t.offset)  # type: ignore[attr-defined]
    data = fh.read(st.st_size - t.offset)  # type: ignore[attr-defined]
    t.offset += len(data)
    buf = t.pending + data
    lines = buf.split(b"\n")
    t.pending = lines.pop()  # an unfinished line waits for its newline
    for raw in lines:
        t.lineno += 1
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not line.strip():
            continue
        ev = _parse(t, line, errors)
        if ev is None:
            continue
        for alert in detector.process(ev):
            on_alert(alert)
