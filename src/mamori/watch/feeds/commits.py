"""New commits on each project's watched branch (and changed files of plain folders).

A git project's branch head is read with ``git ls-remote`` (no clone needed to notice nothing
changed); when it moved, a ``sync`` job updates the service's checkout and re-indexes only the
dependency files the new commits touched. A local folder that is not a git repository is
fingerprinted by the size and modification time of its dependency files instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from mamori.errors import MamoriError
from mamori.watch import _git
from mamori.watch._redact import redact
from mamori.watch.context import Context
from mamori.watch.fleet import Project


def remote_of(ctx: Context, project: Project) -> str:
    """The git URL the project is cloned from and pushed to (``""`` for a plain folder)."""
    if project.git:
        return project.git
    folder = ctx.fleet.folder_of(project)
    if folder is not None and _git.is_repository(folder):
        return str(folder.resolve())
    return ""


def branch_of(ctx: Context, project: Project) -> str:
    """The watched branch: the fleet file's, else the remote's default branch."""
    if project.branch:
        return project.branch
    cached = ctx.state.cursor(f"branch/{project.name}")
    if cached:
        return cached
    branch = _git.default_branch(remote_of(ctx, project))
    ctx.state.set_cursor(f"branch/{project.name}", branch)
    return branch


def dependency_files(root: Path) -> dict[str, str]:
    """Relative path → fingerprint (size, mtime) of every file an inventory parser reads."""
    from mamori.inventory import parsers

    readers = parsers()
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if any(p.matches(path) for p in readers):
                st = path.stat()
                out[path.relative_to(root).as_posix()] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def poll(ctx: Context) -> int:
    """Queue a ``sync`` job for every project whose branch (or folder) changed; how many."""
    queued = 0
    for project in ctx.fleet.projects:
        feed = f"commit/{project.name}"
        old = ctx.state.cursor(feed)
        try:
            remote = remote_of(ctx, project)
            if remote:
                head = _git.remote_head(remote, branch_of(ctx, project))
                if not head:
                    ctx.log(f"{project.name}: branch {branch_of(ctx, project)} not found in {redact(remote)}")
                    continue
                payload: dict[str, Any] = {"project": project.name, "old": old or "", "new": head}
                key = f"sync:{project.name}:{head}"
            else:
                folder = ctx.fleet.folder_of(project)
                assert folder is not None
                if not folder.is_dir():
                    ctx.log(f"{project.name}: folder {folder} is missing")
                    continue
                files = dependency_files(folder)
                head = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
                previous = json.loads(
                    ctx.state.cursor(f"files/{project.name}") or "{}"
                )  # mamori's own: trusted
                changed = sorted(p for p in set(files) | set(previous) if files.get(p) != previous.get(p))
                payload = {
                    "project": project.name,
                    "old": old or "",
                    "new": head,
                    "files": changed if old else None,
                }
                key = f"sync:{project.name}:{head}"
        except MamoriError as exc:
            ctx.log(f"{project.name}: cannot read the watched branch: {exc}")
            continue
        if head == old:
            continue
        with ctx.state.transaction():
            if ctx.state.enqueue(key, "sync", payload):
                queued += 1
            ctx.state.set_cursor(feed, head)
            if not remote:
                ctx.state.set_cursor(f"files/{project.name}", json.dumps(files, sort_keys=True))
        ctx.log(f"{project.name}: {'first look' if not old else 'new commit ' + head[:12]}")
    return queued
