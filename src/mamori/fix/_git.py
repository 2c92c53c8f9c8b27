"""git on a repository that may be hostile: no hook, filter, fsmonitor or signing program runs.

Why: a repository's ``.git/config`` and hooks come with the folder the user hands to mamori (a
downloaded tarball holds them too). ``core.fsmonitor``, ``core.hooksPath``, hooks, clean and
smudge filters, ``gpg.program`` and pagers are all commands git runs on its own. Every git call
of ``mamori fix --branch`` goes through :func:`git`, which overrides each of them on the command
line (``-c`` wins over every config file) and never prompts.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.editor=false",
    "core.sshCommand=false",
    "core.askPass=",
    "credential.helper=",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "protocol.allow=never",
    "submodule.recurse=false",
    "diff.external=",
)
"""Configuration that turns off every command git would run on its own."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_CONFIG_NOSYSTEM": "1"})
    return env


def _raw(cwd: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    argv = ["git"]
    for item in SAFE_CONFIG:
        argv += ["-c", item]
    return subprocess.run(
        [*argv, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env=_env(),
    )


def filter_drivers(cwd: Path) -> list[str]:
    """The filter drivers the repository's configuration defines (reading config runs nothing)."""
    proc = _raw(cwd, ["config", "--null", "--get-regexp", r"^filter\..*\.(clean|smudge|process)$"], 60)
    names: list[str] = []
    for entry in proc.stdout.split("\0"):
        key = entry.split("\n", 1)[0]
        if key.startswith("filter.") and key.count(".") >= 2:
            name = key[len("filter.") : key.rindex(".")]
            if name not in names:
                names.append(name)
    return names


def git(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``git args`` in ``cwd`` with hooks, fsmonitor, filters, signing and prompts disabled."""
    overrides: list[str] = []
    for name in filter_drivers(cwd):
        for key, value in (("clean", "cat"), ("smudge", "cat"), ("process", ""), ("required", "false")):
            overrides += ["-c", f"filter.{name}.{key}={value}"]
    return _raw(cwd, [*overrides, *args], timeout)
