"""A log of endless unreadable lines cannot grow `mamori detect` without bound (issue 11): the
first 100 errors per file are listed with their line, the rest counted exactly in one entry."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import mamori

from mamori.detect._detector import MAX_ERRORS_PER_FILE, BoundedErrors
from mamori.model import ScanError


def test_every_bad_line_is_counted_and_only_the_first_are_listed(tmp_path: Path, mamori_home: Path) -> None:
    log = tmp_path / "auth.log"
    lines = 20_000
    with log.open("w", encoding="utf-8") as out:
        for i in range(lines):
            out.write(
                f"Feb 31 12:00:{i % 60:02d} host sshd[{i}]: Failed password for root from 10.0.0.9 port 22\n"
            )
    good = tmp_path / "good.log"
    good.write_text(
        "Feb 28 12:00:00 host sshd[1]: Failed password for root from 10.0.0.9 port 22\n", encoding="utf-8"
    )
    run = mamori("detect", log, good, "-f", "json")
    assert run.code in (0, 1), run.err
    errors = run.json()["errors"]
    listed = [e for e in errors if e["path"] == str(log) and e["line"] > 0]
    assert [e["line"] for e in listed] == list(range(1, MAX_ERRORS_PER_FILE + 1))
    counted = [e for e in errors if e["path"] == str(log) and e["line"] == 0]
    assert len(counted) == 1, errors[-3:]
    assert f"{lines - MAX_ERRORS_PER_FILE:,} more errors in this file not shown" in counted[0]["message"]
    assert not [e for e in errors if e["path"] == str(good)]
    # stderr says the same, without one line per bad record; the summary counts every problem
    assert len(run.err.splitlines()) < MAX_ERRORS_PER_FILE + 20
    text = mamori("detect", log)
    assert f"{lines:,} problems" in text.out + text.err


@given(st.lists(st.sampled_from(["a.log", "b.log", "c.log"]), max_size=60), st.integers(1, 8))
def test_listed_per_file_never_exceeds_the_cap_and_the_total_is_exact(paths: list[str], cap: int) -> None:
    errors = BoundedErrors(per_file=cap)
    for i, p in enumerate(paths):
        errors.append(ScanError(path=p, message=f"bad {i}", line=i + 1))
    assert errors.total == len(paths)
    for p in set(paths):
        mine = [e for e in errors if e.path == p]
        assert len([e for e in mine if e.line]) == min(cap, paths.count(p))
        extra = paths.count(p) - cap
        assert len([e for e in mine if not e.line]) == (1 if extra > 0 else 0)
        if extra > 0:
            assert f"{extra:,} more error" in next(e.message for e in mine if not e.line)
