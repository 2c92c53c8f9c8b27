"""A running ``detect --follow`` uses rule files added or edited on disk without a restart.

Through the command users type: a follower with ``--rules DIR`` sees a line no rule matches,
then a rule for it is written into DIR and the same line is appended again: it alerts. A rule
file broken mid-edit keeps the rules loaded before (and says so).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

RULE = """title: {title}
id: {rid}
status: test
logsource:
  category: webserver
detection:
  selection:
    cs-uri-query|contains: '{needle}'
  condition: selection
level: high
"""
LINE = '10.0.0.9 - - [10/Feb/2025:10:00:{s:02d} +0000] "GET /?q={needle} HTTP/1.1" 200 5\n'


def _wait(what: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.1)
    return False


def test_a_rule_written_while_following_is_used_on_the_next_lines(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "first.yml").write_text(
        RULE.format(title="First needle", rid="11111111-1111-4111-8111-111111111111", needle="needleone")
    )
    log = tmp_path / "access.log"
    log.write_text(LINE.format(s=1, needle="needleone"))
    out = tmp_path / "alerts.jsonl"
    err = tmp_path / "stderr.txt"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    with err.open("w") as err_fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mamori",
                "detect",
                "--follow",
                "--rules",
                str(rules),
                "--format",
                "jsonl",
                "--no-record",
                "-o",
                str(out),
                str(log),
            ],
            env=env,
            stderr=err_fh,
        )
    try:

        def titles() -> list[str]:
            text = out.read_text() if out.exists() else ""
            return [json.loads(x)["title"] for x in text.splitlines() if x.strip()]

        assert _wait(lambda: titles() == ["First needle"], 60), err.read_text()  # interpreter start-up
        with log.open("a") as fh:  # no rule matches this yet
            fh.write(LINE.format(s=2, needle="needletwo"))
        time.sleep(1.5)
        assert titles() == ["First needle"]
        (rules / "second.yml").write_text(
            RULE.format(title="Second needle", rid="22222222-2222-4222-8222-222222222222", needle="needletwo")
        )
        assert _wait(lambda: "rules reloaded: 2 rules (was 1)" in err.read_text(), 20), err.read_text()
        with log.open("a") as fh:
            fh.write(LINE.format(s=3, needle="needletwo"))
        assert _wait(lambda: titles() == ["First needle", "Second needle"], 20), err.read_text()
        # a file broken mid-edit, the other one removed: no usable rule is left, so the rules
        # loaded before stay in use, and the follower says so
        (rules / "first.yml").unlink()
        (rules / "second.yml").write_text("title: [unclosed\n")
        assert _wait(lambda: "none is usable now; still matching the 2 rules" in err.read_text(), 20), (
            err.read_text()
        )
        with log.open("a") as fh:
            fh.write(LINE.format(s=4, needle="needleone"))
        assert _wait(lambda: titles() == ["First needle", "Second needle", "First needle"], 20)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)
