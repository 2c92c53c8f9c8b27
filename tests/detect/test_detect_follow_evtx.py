"""``--follow`` on EVTX: new records of a growing Windows event log raise alerts, once each.

An EVTX file is rewritten in place as Windows adds records (chunks fill, the header changes), so
the follower re-reads it when its size or time changes and evaluates only records whose
EventRecordID is above the highest one seen. The cases drive a followed file through the states
a live log goes through, with SigmaHQ regression samples as its successive contents: records
1-4, then records 1-5 (one new record), then the same bytes touched again (nothing new), then a
cleared log starting again at record 1 (read from its start).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from mamori.detect import Alert, Detector, load_rules
from mamori.errors import InputError

SIGMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sigma"
PROC = "rules/windows/process_creation/proc_creation_win_reg_system_restore_modification"
ANYDESK = "rules/windows/file/file_event/file_event_win_anydesk_artefact"
AMSI = "rules/windows/process_creation/proc_creation_win_amsi_registry_tampering"


def _sample(rule: str) -> Path:
    return next((SIGMA / "regression_data" / rule).glob("*.evtx"))


def _wait_for(got: list[Alert], n: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.02)


def _rewrite(dest: Path, src: Path) -> None:
    """Replace the file's bytes in place (same inode), as the event log service does."""
    with dest.open("r+b") as fh:
        data = src.read_bytes()
        fh.seek(0)
        fh.write(data)
        fh.truncate(len(data))


@pytest.mark.skipif(not SIGMA.is_dir(), reason="the SigmaHQ data beside the repository is missing")
def test_follow_evtx_alerts_on_new_records_only(tmp_path: Path) -> None:
    from mamori.detect._follow import follow

    rules = load_rules([SIGMA / f"{r}.yml" for r in (PROC, ANYDESK, AMSI)])
    assert not rules.unsupported
    ids = {Path(r.path).stem: r.id for r in rules.rules}
    log = tmp_path / "Microsoft-Windows-Sysmon%4Operational.evtx"
    shutil.copyfile(_sample(PROC), log)
    detector = Detector(rules)
    got: list[Alert] = []
    stop = threading.Event()
    worker = threading.Thread(
        target=follow, args=([str(log)], detector, got.append), kwargs={"stop": stop, "interval": 0.05}
    )
    worker.start()
    try:
        _wait_for(got, 4)
        time.sleep(0.2)
        first = [(a.rule_id, a.record) for a in got]
        assert first == [(ids[Path(PROC).name], n) for n in (1, 2, 3, 4)]

        _rewrite(log, _sample(ANYDESK))  # records 1-5: only record 5 is new
        _wait_for(got, 5)
        time.sleep(0.2)
        assert [(a.rule_id, a.record) for a in got[4:]] == [(ids[Path(ANYDESK).name], 5)]

        os.utime(log, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, nothing new
        time.sleep(0.3)
        assert len(got) == 5

        _rewrite(log, _sample(AMSI))  # cleared: record 1 again, read from the start
        _wait_for(got, 6)
        time.sleep(0.2)
        assert [(a.rule_id, a.record) for a in got[5:]] == [(ids[Path(AMSI).name], 1)]
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert detector.stats.errors == []


def test_follow_refuses_stdin_and_missing_files(tmp_path: Path) -> None:
    from mamori.detect._follow import follow

    detector = Detector(load_rules([]))
    with pytest.raises(InputError, match="stdin"):
        follow(["-"], detector, lambda a: None)
    with pytest.raises(InputError, match="no such log file"):
        follow([str(tmp_path / "gone.evtx")], detector, lambda a: None)
