"""Path traversal (CWE-22/23/36/73): the opened path leaves the folder the app meant.

The payload climbs one folder (``../canary``). The intended folder is the part of the opened
path before the payload (the app's own prefix), or the working directory when the input is
the whole path; proven when the normalised opened path is outside it. A path reduced with
``basename`` or confined by a check never carries the payload verbatim and is not proven.
Writes and removals are refused by the harness after being recorded.
"""

from __future__ import annotations

import posixpath

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at

_SINKS = (
    "open",
    "os.stat",
    "os.lstat",
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.rmdir",
    "os.chmod",
    "shutil.copyfile",
    "os.listdir",
    "os.scandir",
)


def payloads(c: Canary) -> list[str]:
    return [
        f"../{c.token}",
        f"../../../../../../../../tmp/{c.token}",
        f"/tmp/{c.token}",
        f"../{c.token}.txt",  # code that checks for an allowed extension first
        f"....//{c.token}",  # code that removes "../" once (not until none is left)
    ]


def leaves_folder(path: str, payload: str, cwd: str, token: str = "") -> tuple[bool, str]:
    """(True, folder) when ``path`` built with ``payload`` resolves outside the intended folder.

    When the app transformed the payload on the way (removed ``../`` once), the climb is the run
    of ``../`` right before ``token`` in the path, and the intended folder what precedes it.
    """
    i = path.find(payload)
    if i < 0 and token:
        i = path.find(token)
        if i >= 0:
            while path[:i].endswith(("../", "..\\")):
                i -= 3
    if i < 0:
        return False, ""
    prefix = path[:i]
    base = posixpath.join(cwd, prefix) if not prefix.startswith("/") else prefix
    folder = posixpath.normpath(base if base.endswith("/") or not prefix else posixpath.dirname(base))
    resolved = posixpath.normpath(posixpath.join(cwd, path))
    inside = resolved == folder or resolved.startswith(folder.rstrip("/") + "/")
    return not inside, folder


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    seen = events(obs, *_SINKS)
    for e in seen:
        path = str(e.get("path", ""))
        out, folder = leaves_folder(path, payload, str(e.get("cwd") or "/"), c.token)
        if out:
            verb = (
                "wrote"
                if e.get("write")
                else ("looked up" if str(e.get("sink")).startswith("os.") else "opened")
            )
            return verdict_at(e, True, f"the app {verb} {path}, outside {folder}", path)
    if seen:
        path = str(seen[0].get("path", ""))
        return verdict_at(
            seen[0], False, f"the canary named a file but stayed inside the folder: {path}", path
        )
    return None


FAMILY = Family("path", ("PY-PATH",), ("CWE-22", "CWE-23", "CWE-36", "CWE-73"), payloads, judge)
