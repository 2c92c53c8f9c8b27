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
from mamori.detect._readers import LINE_PARSERS, sniff_line
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
) -> None:
    """Tail ``paths`` until ``stop`` is set (or forever), calling ``on_alert`` for each alert."""
    for p in paths:
        if p == "-":
            raise InputError("--follow reads files; stdin is already a stream (drop --follow)")
        with open(p, "rb") as fh:
            if fh.read(8) == b"ElfFile\x00":
                raise InputError(
                    "--follow works on text logs (access, syslog, auditd, JSON Lines), not EVTX", path=p
                )
    tails = [_Tail(p) for p in paths]
    errors: list[ScanError] = []
    while True:
        for t in tails:
            _poll(t, detector, on_alert, errors)
        if errors:
            for e in errors:
                detector.stats.errors.append(e)
                if on_error is not None:
                    on_error(e)
            errors.clear()
        if stop is not None and stop.wait(interval):
            break
        if stop is None:
            time.sleep(interval)
    for t in tails:
        if t.fh is not None:
            t.fh.close()  # type: ignore[attr-defined]


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
