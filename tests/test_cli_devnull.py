"""Writing a report to a device must write to it, never replace it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mamori.cli import write_output


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null on this platform")
def test_output_to_dev_null_keeps_the_device() -> None:
    write_output("{}", Path("/dev/null"))
    mode = os.stat("/dev/null").st_mode
    assert stat.S_ISCHR(mode)


def test_output_to_a_file_is_atomic_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "out" / "r.json"
    write_output('{"a": 1}', target)
    assert target.read_text() == '{"a": 1}\n'
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temporary left behind
