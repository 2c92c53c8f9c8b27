"""The one walk over a project's folders, safe on hostile trees.

Every stage that lists a project's files (inventory, code analysis, reachability, entry
points, fixes) walks through :func:`walk_files`, so a repository cannot make any of them hang
or wander off:

- a folder is entered once: a symlink back to a folder already walked (``a -> .``, two links
  to one folder, a bind-mount loop) is not followed, and is reported;
- a symlinked folder is followed only when it leads to a folder inside the project; one that
  leads outside (``data -> /``, ``shared -> ../..``) is not walked, and is reported;
- only regular files are yielded: a FIFO, socket or device (``package-lock.json -> /dev/zero``)
  that a caller would have read is reported, never opened;
- the walk is iterative, in a stable order (files of a folder sorted by name, then its
  sub-folders, depth first), and a folder that cannot be listed is reported, not fatal.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from mamori.model import ScanError

__all__ = ["MAX_SOURCE_BYTES", "inside", "regular_file_error", "walk_files", "walk_stat"]

OUTSIDE_LINK = "symlinked folder leads outside the project: not walked"
"""A folder link out of the project (``certs -> /etc/ssl/certs``): its files are not the project's."""
WALKED_ONCE = "folder already walked (a symlink loop or a second link to it): not walked again"
"""A link back to a folder already walked: nothing in it went unread."""
NOT_WALKED = (OUTSIDE_LINK, WALKED_ONCE)
"""Walk messages that are no gap in what the scan read: the report lists them in
``coverage.not_walked``, not among its errors or unchecked items."""

MAX_SOURCE_BYTES = 8 * 1024 * 1024
"""Largest source file parsed (8 MiB; the largest hand-written Python modules are a few hundred
KiB). A parse tree takes about a hundred times its source in memory, so a larger file is
reported as skipped rather than read."""


def inside(path: Path, root: Path) -> bool:
    """True when ``path``, symlinks resolved, is ``root`` or below it."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def walk_files(
    root: Path,
    *,
    skip_dir: Callable[[str], bool] = lambda name: False,
    skip_folder: Callable[[Path], bool] | None = None,
    want: Callable[[Path], bool] = lambda path: True,
    errors: list[ScanError] | None = None,
) -> Iterator[Path]:
    """Regular files below ``root`` that ``want`` accepts, never entering a folder twice.

    ``skip_dir`` names folders not to enter (virtual environments, caches); ``skip_folder`` is
    asked with the folder's path (user exclusions). Problems met — a
    symlink loop, a symlinked folder outside the project, a special file ``want``
    accepts, a folder that cannot be listed — are appended to ``errors`` with the path
    relative to ``root``.
    """
    for path, _info in walk_stat(root, skip_dir=skip_dir, skip_folder=skip_folder, want=want, errors=errors):
        yield path


def walk_stat(
    root: Path,
    *,
    skip_dir: Callable[[str], bool] = lambda name: False,
    skip_folder: Callable[[Path], bool] | None = None,
    want: Callable[[Path], bool] = lambda path: True,
    suffixes: tuple[str, ...] | None = None,
    errors: list[ScanError] | None = None,
) -> Iterator[tuple[Path, os.stat_result]]:
    """:func:`walk_files` with each file's ``os.stat`` (symlinks followed), as the walk saw it.

    ``suffixes``, when given, leaves out files whose name ends with none of them before ``want``
    is asked (a cheap first filter: most files of a large tree are not wanted). Paths are kept
    as strings inside the walk; a :class:`~pathlib.Path` is made only for what is yielded or
    asked about.
    """
    root = Path(root)
    real_root = root.resolve()

    def report(path: str, message: str) -> None:
        if errors is not None:
            errors.append(ScanError(_rel(Path(path), root), message))

    try:
        st = os.stat(root)
    except OSError as exc:
        report(str(root), f"cannot read folder: {exc.strerror or exc}")
        return
    seen = {(st.st_dev, st.st_ino)}
    stack = [str(root)]
    is_dir, is_reg = stat.S_ISDIR, stat.S_ISREG
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report(folder, f"cannot list folder: {exc.strerror or exc}")
            continue
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            try:
                is_link = entry.is_symlink()
            except OSError:
                continue
            if not is_link and suffixes is not None and not name.endswith(suffixes):
                # a file no suffix wants is left without a stat (the folder listing says what
                # it is; most files of a large tree: translations, data, assets)
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                except OSError:
                    continue
            try:
                info = entry.stat(follow_symlinks=True)
            except OSError as exc:
                if is_link and (suffixes is None or name.endswith(suffixes)) and want(Path(entry.path)):
                    report(entry.path, f"broken or looping symlink: not read ({exc.strerror or exc})")
                continue
            if is_dir(info.st_mode):
                if skip_dir(name) or (skip_folder is not None and skip_folder(Path(entry.path))):
                    continue
                if is_link and not inside(Path(entry.path), real_root):
                    report(entry.path, OUTSIDE_LINK)
                    continue
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    report(entry.path, WALKED_ONCE)
                    continue
                seen.add(key)
                subdirs.append(entry.path)
                continue
            if suffixes is not None and not name.endswith(suffixes):
                continue
            path = Path(entry.path)
            if not want(path):
                continue
            if is_reg(info.st_mode):
                yield path, info
            else:
                report(entry.path, f"not a regular file ({_kind(info.st_mode)}): not read")
        stack.extend(reversed(subdirs))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def regular_file_error(path: Path) -> str:
    """Why ``path`` must not be opened (a FIFO, device, folder …), or ``""`` for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "is a folder"
    return f"not a regular file ({_kind(mode)}): not read"
