"""Detection that means what it says: what is read, which rules apply, times, escalation, sharing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mamori.cli import app as mamori_app
from mamori.config import results_db_path
from mamori.detect import Detector, load_rules_from_text
from mamori.detect._alert import Alert
from mamori.detect._readers import read_events
from mamori.detect._tieback import TieBack
from mamori.share._local import LocalStore
from mamori.share.stix import ShareOptions, alerts_to_stix

runner = CliRunner()
ATTACK = '"GET /page?name=%7B%7B7*7%7D%7D HTTP/1.1" 200 5 "-" "Mozilla/5.0 (+http://www.bystander-bot.example.com/bot.html)"'
LINE = "45.155.205.233 - - [10/Feb/2025:10:00:00 +0900] " + ATTACK


def _detect(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(mamori_app, ["detect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_folder_yields_only_files_that_look_like_logs(tmp_path: Path) -> None:
    (tmp_path / "access.txt").write_text(LINE + "\n", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "mod.pyc").write_bytes(b"\x00" * 32)
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# notes\nnothing to see\n", encoding="utf-8")
    _, out, err = _detect(str(tmp_path), "--format", "json", "--no-record")
    doc = json.loads(out)
    assert doc["files"]["read"] == 1
    assert sorted(Path(s["path"]).name for s in doc["files"]["skipped"]) == [
        ".gitignore",
        "README.md",
        "logo.png",
        "mod.pyc",
    ]
    assert "4 files in the folders given are not logs" in err
    assert {Path(a["source"]["path"]).name for a in doc["alerts"]} == {"access.txt"}
    # named explicitly, a text file is read as given (each line a message)
    _, out, _ = _detect(str(tmp_path / "README.md"), "--format", "json", "--no-record")
    assert json.loads(out)["events"] == 2


DB_RULE = """
title: Database keyword
id: 11111111-1111-4111-8111-111111111111
logsource: {category: database}
detection: {keywords: [powershell], condition: keywords}
level: high
"""


def test_a_rule_is_skipped_only_when_the_source_is_known_and_differs(tmp_path: Path) -> None:
    ruleset = load_rules_from_text(DB_RULE)
    sysmon = tmp_path / "sysmon.jsonl"
    sysmon.write_text(
        json.dumps(
            {
                "Event": {
                    "System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1},
                    "EventData": {"Image": "C:\\powershell.exe"},
                }
            }
        )
        + "\n"
        + json.dumps({"app": "db", "message": "powershell in a query"})
        + "\n",
        encoding="utf-8",
    )
    detector = Detector(ruleset, peer_indicators=False)
    alerts = list(detector.run_files([str(sysmon)]))
    assert [a.record for a in alerts] == [2]  # the JSON line naming no source is checked, Sysmon is not


def test_rules_that_fail_to_load_are_named_in_every_format(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yml").write_text(
        "title: x\nlogsource: {product: windows}\ndetection: {condition: nope}\n", encoding="utf-8"
    )
    (rules / "ok.yml").write_text(DB_RULE, encoding="utf-8")
    log = tmp_path / "a.log"
    log.write_text("hello\n", encoding="utf-8")
    for fmt in ("table", "jsonl"):
        _, _, err = _detect(str(log), "--rules", str(rules), "--format", fmt, "--no-record")
        assert "rule not loaded: " in err and "broken.yml" in err


def test_times_keep_their_offset_and_utc_is_z(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n" + LINE.replace("+0900", "+0000") + "\n", encoding="utf-8")
    events = list(read_events(str(log), []))
    assert [e.timestamp for e in events] == ["2025-02-10T10:00:00+09:00", "2025-02-10T10:00:00.000000Z"]
    _, out, _ = _detect(str(log), "--no-record")
    assert "2025-02-10T10:00:00+09:00" in out and "2025-02-10T10:00:00Z" in out


def test_since_without_offset_is_local_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n", encoding="utf-8")
    _, _, err = _detect(str(log), "--since", "2025-02-10T00:00:00", "--no-record")
    assert "has no offset: read in the local time zone" in err
    _, _, err = _detect(str(log), "--since", "2025-02-10T00:00:00Z", "--no-record")
    assert "no offset" not in err


def _finding(fid: str, cwe: str, **extra: object) -> dict[str, object]:
    return {
        "id": fid,
        "kind": "code",
        "rule_id": "r",
        "title": f"title {fid}",
        "cwe": [cwe],
        "location": {"path": "app.py", "line": 3},
        **extra,
    }


def test_escalation_ties_an_alert_to_the_component_it_targets() -> None:
    lodash = _finding(
        "f-lodash",
        "CWE-94",
        kind="dependency",
        title="Command injection in lodash",
        package={"ecosystem": "npm", "name": "lodash", "version": "4.17.15"},
    )
    jinja = _finding(
        "f-jinja",
        "CWE-1336",
        kind="dependency",
        title="Sandbox escape in Jinja2",
        package={"ecosystem": "PyPI", "name": "Jinja2", "version": "2.10"},
    )
    code = _finding("f-code", "CWE-94", title="Template built from request data")
    tb = TieBack.from_findings([lodash, jinja, code])
    hit = tb.exploits(("attack.t1190",), "Server-Side Template Injection Attempt In Request")
    assert hit == ("f-jinja", "f-code")  # never the front-end lodash advisory
    assert tb.titles["f-jinja"] == "Sandbox escape in Jinja2 (Jinja2 2.10)"
    assert tb.titles["f-code"] == "Template built from request data (app.py:3)"


def test_shared_indicators_are_the_attackers_not_a_user_agent_domain(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n", encoding="utf-8")
    _, out, _ = _detect(str(log), "--format", "jsonl", "--no-record")
    alerts = [json.loads(x) for x in out.splitlines()]
    assert alerts and all("cs-user-agent" not in a["attacker"] for a in alerts)
    bundle = json.dumps(alerts_to_stix(alerts, ShareOptions()))
    assert "bystander-bot" not in bundle and "45.155.205.233" in bundle


def _indicator(n: int, pattern: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2025-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "name": f"peer {n}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2025-01-01T00:00:00Z",
    }


def test_peers_indicators_are_capped_and_deduplicated(tmp_path: Path) -> None:
    same = "[ipv4-addr:value = '45.155.205.233']"
    huge = (
        "[ipv4-addr:value = '45.155.205.234']" + " OR [ipv4-addr:value = '45.155.205.234']" * 250_000
    )  # ~9 MB
    store = LocalStore()
    refused: list[str] = []
    store.add(
        [_indicator(1, same), _indicator(2, same), _indicator(3, huge)],
        server="s",
        collection="c",
        refused=refused,
    )
    assert len(refused) == 1  # the 9 MB pattern is not stored at all
    # one that reached the store some other way (an older mamori stored it) is refused unparsed
    store._conn.execute(
        "INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            "indicator--00000000-0000-4000-8000-000000000004",
            "2025-01-01T00:00:00.000Z",
            "indicator",
            json.dumps(_indicator(4, huge)),
            "s",
            "c",
            "now",
        ),
    )
    store._conn.commit()
    store.close()
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n", encoding="utf-8")
    detector = Detector(load_rules_from_text(DB_RULE))
    alerts = [a for a in detector.run_files([str(log)]) if a.title.startswith("Peer indicator")]
    assert len(alerts) == 1  # two peers, one observable: one alert
    assert any("pattern over" in e.message for e in detector.stats.errors)
    assert results_db_path().parent.exists()


def test_no_record_stores_nothing(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE + "\n", encoding="utf-8")
    _detect(str(log), "--no-record")
    assert not results_db_path().exists()
    _detect(str(log))
    assert results_db_path().exists()


def test_alert_attacker_fields_leave_out_bystanders() -> None:
    a = Alert(
        "r", "t", "high", "", "p", 1, event={"c-ip": "1.2.3.4", "cs-user-agent": "x", "cs-referer": "y"}
    )
    assert a.to_dict()["attacker"] == {"c-ip": "1.2.3.4"}
