"""TEMPORARY stand-in for ``mamori.sandbox`` until that package lands in main (then deleted).

It has the same interface but gives no isolation at all: ``unavailable_reason`` says so, and
:mod:`mamori.prove` refuses to run an app through it unless the caller passed ``unsafe``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def unavailable_reason() -> str | None:
    """Why no sandbox can be had (always, for this stand-in)."""
    return "no sandbox: mamori.sandbox is not installed (install bubblewrap and a mamori with it)"


@dataclass(frozen=True)
class Sandbox:
    root: Path
    network: bool = False
    python: Path | None = None
    readonly: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    unsafe: bool = False


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ", "TERM") or k.startswith("LC_")}
    keep["HOME"] = str(home)
    keep.update(extra or {})
    return keep


def popen(sb: Sandbox, argv: Sequence[str], *, cwd: Path | None = None, **kw: Any) -> subprocess.Popen[str]:
    env = clean_env(sb.root / ".home", sb.env)
    return subprocess.Popen(list(argv), cwd=cwd or sb.root, env=env, text=True, **kw)


def run(
    sb: Sandbox,
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = clean_env(sb.root / ".home", sb.env)
    return subprocess.run(
        list(argv),
        cwd=cwd or sb.root,
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def scratch_dir(prefix: str, base: Path | None = None) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
