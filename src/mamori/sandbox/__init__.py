"""Running a project's own commands (tests, builds, lock tools, an app under proof) contained.

Everything mamori runs that comes from a project — ``conftest.py``, ``setup.py``, npm scripts, a
web app — is untrusted code. It runs through :func:`run` or :func:`popen` with a
:class:`Sandbox`: a kernel sandbox made by bubblewrap (user, mount, pid, ipc, uts and network
namespaces; see :mod:`mamori.sandbox._bwrap` for what it sees), an allow-listed environment
(:func:`clean_env`: no tokens, no ``MAMORI_*``, no cloud credentials, no SSH agent), and the
scratch ``root`` as the only writable place besides a private ``/tmp``.

Without bubblewrap (:func:`unavailable_reason` says so) :func:`run` raises
:class:`SandboxUnavailable`, unless the sandbox is explicitly ``unsafe`` (``--unsafe-run-tests``,
the bundled demo): then the command runs as a plain child process, still with the scrubbed
environment, in its own process group.

Scratch folders come from :func:`scratch_dir` and are marked with their owner, so that
:func:`clean_stale` can remove the ones a killed run left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.errors import SandboxUnavailable
from mamori.sandbox import _bwrap
from mamori.sandbox._bwrap import NO_SANDBOX, SANDBOX_HOME, bwrap_path, python_mounts
from mamori.sandbox._scratch import clean_stale, is_stale, pid_alive, scratch_dir

__all__ = [
    "NO_SANDBOX",
    "Sandbox",
    "SandboxUnavailable",
    "clean_env",
    "clean_stale",
    "is_stale",
    "pid_alive",
    "popen",
    "python_mounts",
    "run",
    "scratch_dir",
    "tool_mounts",
    "unavailable_detail",
    "unavailable_reason",
]

ALLOWED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM")
"""Variables passed from mamori's environment (plus every ``LC_*``); nothing else is."""
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def unavailable_detail() -> str | None:
    """None when bubblewrap works here; else what is wrong, in words (for warnings and logs)."""
    path = bwrap_path()
    if path is None:
        named = os.environ.get("MAMORI_BWRAP")
        return (
            f"MAMORI_BWRAP={named} is not an executable" if named else "bubblewrap (bwrap) is not installed"
        )
    return _bwrap.probe(path)


def unavailable_reason() -> str | None:
    """None when a kernel sandbox (bubblewrap) works here; else the reason fixes and proofs carry."""
    return None if unavailable_detail() is None else NO_SANDBOX


@dataclass(frozen=True)
class Sandbox:
    """Where and how a project command runs."""

    root: Path
    """Scratch copy of the project: the only writable place (plus a private /tmp)."""
    network: bool = False
    """Share the host's network; by default the sandbox has its own namespace (loopback only)."""
    python: Path | None = None
    """The interpreter or venv to use; its prefix is mounted read-only and its bin is first on PATH."""
    readonly: tuple[Path, ...] = ()
    """Extra read-only mounts (a cached venv, coverage's site folder, mamori's harness files)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra variables, set after the allow-list."""
    unsafe: bool = False
    """Run without a sandbox, explicitly (``--unsafe-run-tests``, the bundled demo)."""
    path: tuple[str, ...] = ()
    """Extra folders put first on PATH (a tool's bin folder mounted through ``readonly``)."""


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-list environment: PATH (absolute entries only), HOME=``home``, LANG/LC_*, TZ, TERM.

    ``extra`` is added last. No token, ``MAMORI_*`` setting, cloud credential, proxy or SSH agent
    socket of mamori's own environment passes.
    """
    env: dict[str, str] = {}
    for key, value in os.environ.items():
        if key in ALLOWED_ENV or key.startswith("LC_"):
            env[key] = value
    parts = [p for p in env.get("PATH", DEFAULT_PATH).split(os.pathsep) if os.path.isabs(p)]
    env["PATH"] = os.pathsep.join(parts) or DEFAULT_PATH
    env["HOME"] = str(home)
    env.update(extra or {})
    return env


def tool_mounts(name: str) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """What a sandbox needs to run the host tool ``name`` (npm, uv, tox…): (read-only folders, PATH).

    Tools under the system folders are visible already; one elsewhere (``~/.local/bin/uv``)
    gets its installation prefix mounted read-only and its folder put on PATH.
    """
    found = shutil.which(name)
    if not found:
        return (), ()
    real = Path(os.path.realpath(found))
    if any(real.is_relative_to(p) for p in ("/usr", "/opt")):
        return (), ()
    return (real.parent.parent, Path(found).parent), (str(Path(found).parent),)


def _python_bin(python: Path) -> str:
    return str(Path(python).parent)


def _env_for(sb: Sandbox, home: Path) -> dict[str, str]:
    env = clean_env(home, sb.env)
    front = [*sb.path, *([_python_bin(sb.python)] if sb.python else [])]
    if front and "PATH" not in sb.env:
        env["PATH"] = os.pathsep.join([*front, env["PATH"]])
    return env


def _unsafe_home(root: Path) -> Path:
    home = Path(tempfile.gettempdir()) / f"mamori-home-{os.getuid() if hasattr(os, 'getuid') else 0}"
    home.mkdir(mode=0o700, exist_ok=True)
    return home


def command(sb: Sandbox, argv: Sequence[str], *, cwd: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """The full argv (bubblewrap's, then ``argv``) and the environment that :func:`popen` uses."""
    if sb.unsafe:
        return list(argv), _env_for(sb, _unsafe_home(sb.root))
    path = bwrap_path()
    reason = unavailable_detail()
    if path is None or reason is not None:
        raise SandboxUnavailable(f"{NO_SANDBOX} ({reason})")
    readonly = [*(python_mounts(sb.python) if sb.python else []), *sb.readonly]
    full = [
        path,
        *_bwrap.namespace_args(network=sb.network),
        *_bwrap.system_args(),
        *_bwrap.mount_args(sb.root, readonly, network=sb.network),
        "--chdir",
        str(Path(os.path.abspath(cwd or sb.root))),
        "--",
        *argv,
    ]
    return full, _env_for(sb, Path(SANDBOX_HOME))


def popen(
    sb: Sandbox, argv: Sequence[str], *, cwd: Path | None = None, **kwargs: Any
) -> subprocess.Popen[str]:
    """Start ``argv`` in the sandbox (text mode, its own process group); the caller waits for it.

    Raises :class:`SandboxUnavailable` when no sandbox can be made and ``sb.unsafe`` is false.
    """
    full, env = command(sb, argv, cwd=cwd)
    kwargs.setdefault("text", True)
    kwargs.setdefault("start_new_session", True)
    return subprocess.Popen(full, cwd=cwd or sb.root, env=env, **kwargs)


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        proc.kill()


def run(
    sb: Sandbox,
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    input: str | None = None,
    max_output: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in the sandbox and collect its output (like ``subprocess.run``, never ``check``).

    On timeout the whole sandbox (its process group; with bubblewrap its pid namespace) is killed
    and :class:`subprocess.TimeoutExpired` is raised. With ``max_output`` the output goes to
    temporary files and only the last ``max_output`` bytes of each stream are kept, so a command
    that prints gigabytes cannot grow mamori's memory.
    """
    if max_output is None:
        return _run_piped(sb, argv, cwd=cwd, timeout=timeout, input=input)
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = popen(
            sb,
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=out_file,
            stderr=err_file,
        )
        try:
            proc.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
            raise subprocess.TimeoutExpired(proc.args, timeout or 0) from None
        except BaseException:
            _kill(proc)
            proc.wait()
            raise
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, _tail(out_file, max_output), _tail(err_file, max_output)
        )


def _tail(handle: Any, limit: int) -> str:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", "replace")


def _run_piped(
    sb: Sandbox, argv: Sequence[str], *, cwd: Path | None, timeout: float | None, input: str | None
) -> subprocess.CompletedProcess[str]:
    proc = popen(
        sb,
        argv,
        cwd=cwd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        errors="replace",
    )
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(proc.args, timeout or 0, output=out, stderr=err) from None
    except BaseException:
        _kill(proc)
        proc.wait()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
