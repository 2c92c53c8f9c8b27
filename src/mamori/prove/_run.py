"""Running the harness: a scratch copy of the project, the app's interpreter, the sandbox.

The app runs in a child process under :mod:`mamori.sandbox` (own network namespace, scrubbed
environment, writes confined to the scratch copy and a private /tmp), never in mamori's own
process. The harness files are mounted read-only. One process serves every request of a
framework's findings; if it dies, the remaining requests go to a fresh one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori import _safejson
from mamori import sandbox as _sandbox
from mamori.errors import ParseError
from mamori.prove._apps import AppSpec

HARNESS = Path(__file__).with_name("harness")
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", "*.pyc", ".mypy_cache"
)


@dataclass
class Batch:
    """What one harness run returned."""

    start_error: str = ""
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    crashed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    startup: float = 0.0
    prepared: list[str] = field(default_factory=list)
    """What the harness ran to prepare the app's database (``db_init.py``, ``flask init-db``)."""


def sandbox_reason(unsafe: bool) -> str | None:
    """None when the app can be run (a sandbox works, or the caller accepted running it unsafe)."""
    if unsafe:
        return None
    return _sandbox.unavailable_reason()


_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


_DISTRIBUTIONS = {
    "flask": "flask",
    "django": "django",
    "aiohttp": "aiohttp",
    "tornado": "tornado",
    "fastapi": "fastapi",
    "starlette": "starlette",
}
"""Import name of a web framework -> its distribution (installed when the project names none)."""
COMPAT_ERRORS = ("ImportError", "ModuleNotFoundError", "AttributeError", "SyntaxError", "TypeError")
"""Start failures that old pins on a newer Python cause (a removed name, new syntax)."""
START_HINT = (
    " (the app ran in a scratch virtualenv of the project's pinned packages: pass --python with "
    "an environment where the app starts)"
)


def app_environment(
    root: Path,
    python: Path | None,
    *,
    offline: bool,
    unsafe: bool,
    frameworks: frozenset[str] = frozenset(),
    newest: bool = False,
) -> tuple[Path | None, str]:
    """The app's interpreter and how it was had, or (None, why there is none).

    ``--python`` (else ``MAMORI_FIX_PYTHON``) names it; it is mounted read-only into the
    sandbox. Otherwise mamori installs the project's pinned packages (and, unpinned, the ones it
    names without a pin and the web framework its app imports when it names none) as wheels into a cached scratch virtualenv — without running any of
    the project's code, the network shared for the install only (:func:`mamori.fix.prepare_env`).
    Offline there is no download: a virtualenv made before is used, else there is none.
    ``newest``: the same packages unpinned, for an app whose pins do not start on this Python.
    """
    if python is not None:
        return Path(python), f"the interpreter given (--python {python})"
    named = os.environ.get("MAMORI_FIX_PYTHON")
    if named:
        return Path(named), "the interpreter MAMORI_FIX_PYTHON names"
    from mamori.fix._environ import NO_ENVIRONMENT, RunPolicy, prepare_env, project_pins

    pins, skipped = project_pins(root)
    unpinned = tuple(name for name in skipped if _PLAIN_NAME.match(name))
    listed = {p.split("==", 1)[0].lower().replace("_", "-") for p in pins} | {n.lower() for n in unpinned}
    # the framework the app imports, when the project lists it nowhere (a lab with no requirements)
    unpinned += tuple(
        sorted(
            _DISTRIBUTIONS[f] for f in frameworks if f in _DISTRIBUTIONS and _DISTRIBUTIONS[f] not in listed
        )
    )
    if newest:  # the same packages at their newest releases (pins too old for this Python)
        unpinned = tuple(sorted({p.split("==", 1)[0] for p in pins} | set(unpinned)))
        pins = []
    made, how = prepare_env(
        pins, unpinned, offline=offline, policy=RunPolicy(unsafe=unsafe), best_effort=True
    )
    if made is None:
        return None, how if how == NO_ENVIRONMENT else f"no environment for the app: {how}"
    return Path(made), how


_MISSING = re.compile(r"No module named '([\w.]+)'")
_LEFT_OUT = re.compile(r"left out \(no wheel could be installed\): ([^;()]+)")


def explain_missing(error: str, *hows: str) -> str:
    """``error`` with the cause of a missing module its environment left out, when it names one.

    ``No module named 'trafaret_config'`` after ``trafaret-config==2.0.2`` was left out: that
    package has no wheel for this Python, and mamori builds nothing from source.
    """
    left = [p.strip() for how in hows for m in _LEFT_OUT.finditer(how) for p in m.group(1).split(",")]
    causes: dict[str, str] = {}  # distribution -> its pin as the project wrote it (the first seen)
    for module in dict.fromkeys(_MISSING.findall(error)):
        top = module.split(".")[0].lower().replace("_", "-")
        for pin in left:
            name = re.split(r"[=<>!~\[ ]", pin, maxsplit=1)[0].lower().replace("_", "-")
            if name in (top, f"python-{top}", f"py{top}"):
                causes.setdefault(name, pin)
    if not causes:
        return error
    return (
        f"{error} ({', '.join(causes.values())}: no wheel for this Python, and mamori installs wheels only, "
        "building nothing from source)"
    )


def scratch_copy(root: Path) -> Path:
    """A copy of the project the app may write to (removed by the caller)."""
    base = _sandbox.scratch_dir("mamori-prove-")
    dest = base / "app"
    shutil.copytree(root, dest, ignore=_IGNORE, symlinks=True)
    return dest


def run_batch(
    scratch: Path,
    framework: str,
    apps: list[AppSpec],
    requests: list[dict[str, Any]],
    *,
    files: dict[str, str],
    python: Path,
    unsafe: bool,
    timeout: float,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> Batch:
    """Send ``requests`` to the app (restarting it when it dies) and collect the observations."""
    batch = Batch()
    started = time.perf_counter()
    pending = list(requests)
    for _ in range(4):
        if not pending:
            break
        done_ids, error, in_flight = _one_process(
            scratch, framework, apps, pending, files, python, unsafe, timeout, batch, on_result
        )
        if error:
            batch.start_error = error
            break
        if in_flight is not None:
            batch.crashed[in_flight["id"]] = "the app's process died while handling the request"
            done_ids.add((in_flight["id"], in_flight.get("attempt", 0)))
        pending = [r for r in pending if (r["id"], r.get("attempt", 0)) not in done_ids]
        if in_flight is None:
            break
    batch.seconds = time.perf_counter() - started
    return batch


def _one_process(
    scratch: Path,
    framework: str,
    apps: list[AppSpec],
    requests: list[dict[str, Any]],
    files: dict[str, str],
    python: Path,
    unsafe: bool,
    timeout: float,
    batch: Batch,
    on_result: Callable[[dict[str, Any]], None] | None,
) -> tuple[set[tuple[str, int]], str, dict[str, Any] | None]:
    spec = apps[0] if apps else None  # the folder of the app tried first (manage.py's, a script's)
    job = {
        "root": str(scratch),
        "cwd": str(scratch / spec.cwd) if spec and spec.cwd else "",
        "framework": framework,
        "apps": [{"module": a.module, "attr": a.attr, "setup": list(a.setup)} for a in apps],
        "requests": requests,
        "files": files,
        "timeout": timeout,
    }
    sb = _sandbox.Sandbox(root=scratch, network=False, python=python, readonly=(HARNESS,), unsafe=unsafe)
    argv = [str(python), str(HARNESS / "pov_main.py")]
    try:
        proc = _sandbox.popen(
            sb, argv, cwd=scratch, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except Exception as exc:
        return set(), f"the app could not be started: {exc}", None
    tail: list[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line)
            del tail[:-40]

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120 + timeout * 2 * len(requests)
    killer = threading.Timer(max(1.0, deadline - time.monotonic()), proc.kill)
    killer.daemon = True
    killer.start()
    done: set[tuple[str, int]] = set()
    error = ""
    finished = False
    by_key = {(r["id"], r.get("attempt", 0)): r for r in requests}
    try:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(job))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        for line in proc.stdout:
            try:  # written next to the project's own code: hostile, the shared safe loader
                msg = _safejson.loads(line, "proof harness")
            except ParseError:
                continue
            if not isinstance(msg, dict):
                continue
            kind = msg.get("type")
            if kind == "error":
                error = str(msg.get("error", "app would not start"))
            elif kind == "ready":
                batch.startup = float(msg.get("seconds", 0.0))
                batch.prepared = [str(p) for p in msg.get("prepared") or []]
            elif kind == "result":
                key = (str(msg.get("id")), int(msg.get("attempt", 0)))
                done.add(key)
                batch.results.setdefault(key[0], []).append(msg)
                if on_result is not None:
                    on_result(msg)
            elif kind == "done":
                finished = True
        proc.wait()
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=2)
    if error:
        return done, _with_stderr(error, tail), None
    if finished:
        return done, "", None
    rest = [k for k in by_key if k not in done]
    if not done and not batch.startup and rest:
        detail = "".join(tail).strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return done, f"app would not start: {detail[0][:500]}", None
    return done, "", by_key[rest[0]] if rest else None


def _with_stderr(error: str, tail: list[str]) -> str:
    """A start error that names no cause (``SystemExit: 1``) gains the app's last stderr lines,
    which usually say why it exited (a missing file, a refused setting)."""
    if "SystemExit" not in error:
        return error
    lines = [t.strip() for t in "".join(tail).splitlines() if t.strip()][-3:]
    if not lines:
        return error
    return f"{error}; its last output: {' | '.join(lines)}"[:1500]
