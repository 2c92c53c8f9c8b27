"""The summary line of ``mamori detect`` says what was checked, in good grammar."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mamori.cli import app as mamori_app

runner = CliRunner()
ACCESS = (
    '45.155.205.233 - - [10/Feb/2025:10:00:00 +0900] "GET /?q=%27%20OR%201=1-- HTTP/1.1" 200 5 "-" "curl/8"\n'
)
SYSMON = {
    "Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "ws1",
        },
        "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"},
    }
}


def test_one_event_one_alert_are_singular(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(ACCESS, encoding="utf-8")
    result = runner.invoke(mamori_app, ["detect", str(log), "--no-record"])
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("1 event, "), last
    assert " 1 alert," in last and "1 alerts" not in result.stdout
    assert "0 problems" in last


def test_rules_that_cannot_apply_are_not_claimed_as_checked(tmp_path: Path) -> None:
    # the bundled pack is for web server logs: over a Sysmon event it checks nothing, and says so
    log = tmp_path / "sysmon.json"
    log.write_text(json.dumps(SYSMON) + "\n", encoding="utf-8")
    result = runner.invoke(mamori_app, ["detect", str(log), "--no-record"])
    assert result.exit_code == 0, result.output
    assert "none applies to these events' log sources" in result.stdout
    doc = json.loads(runner.invoke(mamori_app, ["detect", str(log), "-f", "json", "--no-record"]).stdout)
    assert doc["rules_applicable"] == 0 and doc["rules"]["loaded"] > 0
    # over an access log every bundled rule applies, and nothing extra is said
    access = tmp_path / "access.log"
    access.write_text(ACCESS, encoding="utf-8")
    out = runner.invoke(mamori_app, ["detect", str(access), "--no-record"]).stdout
    assert "apply to these events" not in out and "none applies" not in out
