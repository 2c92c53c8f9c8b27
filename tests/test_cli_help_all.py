"""Every command and sub-command's ``--help``, walked from the app itself and run through the CLI
at COLUMNS=80: exit 0, a non-empty help text, no Python repr, no unrendered rich markup, no line
cropped with ``…``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import typer

from mamori.cli import app


def _walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` (typer's own click: duck-typed, not ``click.Group``)."""
    found = [(path, command)]
    if hasattr(command, "list_commands"):
        ctx = command.context_class(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found.extend(_walk(sub, (*path, name)))
    return found


COMMANDS = _walk(typer.main.get_command(app))


def test_the_walk_finds_the_commands() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"scan", "fix", "db status", "db import", "detect", "share push"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "mamori")
def test_help_renders(path: tuple[str, ...]) -> None:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    run = subprocess.run(
        [sys.executable, "-m", "mamori", *path, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "object at 0x" not in out and not re.search(r"<[\w.]+ object", out), out
    assert "[bold]" not in out and "[/" not in out and "[yellow]" not in out, out
    assert not [line for line in out.splitlines() if line.rstrip().endswith("…")], out
    command = dict(COMMANDS)[path]
    assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no help text"
