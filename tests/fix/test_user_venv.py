"""`mamori fix --python` with the user's own virtualenv: the scratch virtualenv that receives
an upgrade is layered over it and sees the packages the user installed there (a virtualenv's
own site-packages is not part of ``venv --system-site-packages`` made from its interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mamori.fix._environ import RunPolicy, prepare_env
from mamori.sandbox import unavailable_reason

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no sandbox: {unavailable_reason()}"
)


def test_packages_of_the_users_virtualenv_are_seen_in_the_scratch_one(
    tmp_path: Path, mamori_home: Path
) -> None:
    user = tmp_path / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(user)], check=True)
    site = next(user.glob("lib/python*/site-packages"))
    (site / "onlyinuservenv").mkdir()
    (site / "onlyinuservenv" / "__init__.py").write_text("WHERE = 'user venv'\n", encoding="utf-8")
    meta = site / "onlyinuservenv-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: onlyinuservenv\nVersion: 1.0\n", encoding="utf-8"
    )
    python, how = prepare_env([], (), base=str(user / "bin" / "python"), offline=False, policy=RunPolicy())
    assert python is not None, how
    assert Path(python).resolve().parent != (user / "bin").resolve()
    out = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m, onlyinuservenv as o; print(o.WHERE, m.version('onlyinuservenv'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["user", "venv", "1.0"]
