"""Scratch folders that a killed run does not leave behind for long.

Each scratch folder holds a marker naming the process that made it (pid and that process's
start time, so a reused pid is not mistaken for the owner). The next run removes folders whose
owner is gone, and unmarked ones older than an hour (left by a run killed before it wrote the
marker, or by an older mamori).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

MARKER = ".mamori-owner"
STALE_UNMARKED_AFTER = 3600.0
"""Seconds after which an unmarked scratch folder counts as left behind."""


def _start_time(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot (``""`` where /proc is not there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def pid_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` is running (and, given ``started``, is the same process as then)."""
    return _alive(pid, started)


def _alive(pid: int, started: str) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's live process
    now = _start_time(pid)
    return not (started and now and now != started)


def scratch_dir(prefix: str, base: Path | None = None) -> Path:
    """A new folder ``<base or the temp folder>/<prefix>XXXX`` marked as this process's."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    pid = os.getpid()
    (folder / MARKER).write_text(f"{pid} {_start_time(pid)}\n", encoding="ascii")
    return folder


def is_stale(folder: Path, *, max_age: float = STALE_UNMARKED_AFTER, now: float | None = None) -> bool:
    """Whether ``folder`` was left by a process that is gone (or is unmarked and old)."""
    marker = folder / MARKER
    try:
        text = marker.read_text(encoding="ascii", errors="replace").split()
    except FileNotFoundError:
        try:
            age = (now if now is not None else time.time()) - folder.stat().st_mtime
        except OSError:
            return False
        return age > max_age
    except OSError:
        return False
    try:
        pid = int(text[0])
    except (IndexError, ValueError):
        return True
    return not _alive(pid, text[1] if len(text) > 1 else "")


def clean_stale(prefix: str, base: Path | None = None, *, max_age: float = STALE_UNMARKED_AFTER) -> int:
    """Remove scratch folders named ``prefix*`` under ``base`` (default: the temp folder) left behind.

    Returns how many were removed. Never raises: cleaning up is best effort.
    """
    where = Path(base) if base is not None else Path(tempfile.gettempdir())
    removed = 0
    try:
        candidates = [p for p in where.glob(f"{prefix}*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return 0
    for folder in candidates:
        if is_stale(folder, max_age=max_age):
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):
                if not folder.exists():
                    removed += 1
    return removed
