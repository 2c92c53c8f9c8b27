"""Paths in outputs: relative to the scan target, with forward slashes.

Findings carry paths relative to the target already; a stage may still hand an absolute path
(a file target, an error about a file outside the tree). Outputs that are shared or uploaded
(SARIF to code scanning, SBOMs to a hub) must not leak the scanning machine's folders, and
SARIF consumers resolve ``artifactLocation.uri`` against the repository root, so every path is
made relative to the target when it lies inside it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote


def relative_path(path: str, target_root: Path | None = None) -> str:
    """``path`` relative to ``target_root`` when it lies inside it, always with ``/`` separators."""
    if not path:
        return path
    posix = path.replace("\\", "/") if PureWindowsPath(path).drive or "\\" in path else path
    p = Path(path)
    if target_root is not None and p.is_absolute():
        try:
            return p.resolve().relative_to(target_root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    rel = PurePosixPath(posix).as_posix()
    return rel[2:] if rel.startswith("./") else rel


def path_uri(path: str, target_root: Path | None = None) -> str:
    """A relative URI reference for ``path`` (percent-encoded, ``/``-separated)."""
    return quote(relative_path(path, target_root), safe="/@!$&'()*+,;=-._~")
