"""Where ``mamori demo`` records, and what it prints to open the dashboard (real CLI runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.share._hub import Hub


def _demo(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mamori", "demo", "--out", str(out)],
        env={**env, "NO_COLOR": "1", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _login(stdout: str) -> tuple[str, str]:
    """The printed MAMORI_HOME of the serve command, and the token on the line after '…token:'."""
    lines = stdout.splitlines()
    serve = [i for i, line in enumerate(lines) if line.strip().endswith("mamori serve")]
    token_at = [i for i, line in enumerate(lines) if line.rstrip().endswith("with the token:")]
    assert serve and token_at and serve[-1] < token_at[-1], stdout
    home = lines[serve[-1]].strip().removesuffix("mamori serve").strip().removeprefix("MAMORI_HOME=")
    token = lines[token_at[-1] + 1].strip()
    assert token and " " not in token
    return home, token


def _authenticates(home: Path, token: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setenv("MAMORI_HOME", str(home))
    hub = Hub.open()
    try:
        return hub.authenticate(token, "demo") is not None
    finally:
        hub.close()


def test_without_mamori_home_the_demo_records_under_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    env = {k: v for k, v in os.environ.items() if k != "MAMORI_HOME"}
    env.update(HOME=str(user), XDG_DATA_HOME=str(user / ".local/share"))
    out = tmp_path / "demo"
    run = _demo(out, env)
    assert run.returncode == 0, run.stderr
    home, token = _login(run.stdout)
    assert Path(home) == (out / "home").resolve()
    assert (out / "home" / "results.sqlite").is_file()
    assert not (user / ".local/share/mamori").exists()  # the user's own data folder is untouched
    assert _authenticates(out / "home", token, monkeypatch)


def test_with_mamori_home_the_demo_records_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "my home"
    out = tmp_path / "demo"
    run = _demo(out, {**os.environ, "MAMORI_HOME": str(mine)})
    assert run.returncode == 0, run.stderr
    home, token = _login(run.stdout)
    assert home.strip("'") == str(mine)  # quoted for the shell: the folder has a space
    assert (mine / "results.sqlite").is_file() and not (out / "home").exists()
    assert _authenticates(mine, token, monkeypatch)
