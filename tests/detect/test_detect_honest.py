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


def test_an_access_log_with_a_tls_handshake_in_it_is_still_a_log(tmp_path: Path) -> None:
    """A TLS ClientHello sent to the HTTP port is logged raw (NUL bytes in a request line, as in
    EVTX-ATTACK-SAMPLES' Tomcat log): the folder's sniffing must not skip the whole log for it,
    and a quote the server did not escape must not push an attack line out of the field rules."""
    handshake = b'10.0.0.9 - - [11/Jul/2018:09:32:02 +0300] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03r>" 400 -\r\n'
    xss = b'10.0.0.9 - - [11/Jul/2018:09:32:27 +0300] "GET /a.dll?postdata="><script>alert(1)</script> HTTP/1.1" 404 997\r\n'
    (tmp_path / "localhost_access_log.txt").write_bytes(handshake + xss)
    _, out, err = _detect(str(tmp_path), "--format", "json", "--no-record")
    doc = json.loads(out)
    assert doc["files"]["read"] == 1, err
    (alert,) = [a for a in doc["alerts"] if "Cross-Site" in a["title"]]
    assert alert["source"]["record"] == 2
    assert alert["event"]["cs-uri-query"] == 'postdata="><script>alert(1)</script>'  # a field, not plain text
    assert alert["timestamp"] == "2018-07-11T09:32:27+03:00"


W3C = (
    "#Software: Microsoft Internet Information Services 10.0\r\n"
    "#Version: 1.0\r\n"
    "#Date: 2019-09-03 10:04:35\r\n"
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n"
    "2019-09-03 10:13:36 10.0.2.15 GET /erp/conn.aspx proxy&port=3389 80 - 10.0.2.17 Mozilla/5.0+(Windows) - 200 0 0 7\r\n"
    "2019-09-03 10:14:01 10.0.2.15 GET /erp/view.aspx file=..%2f..%2f..%2fwindows%2fwin.ini 80 - 10.0.2.17 - - 200 0 0 3\r\n"
    # IIS restarted with other columns: the next lines follow the new #Fields
    "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status\r\n"
    "2019-09-03 11:00:00 10.0.2.18 GET /search q=1'+UNION+SELECT+password+FROM+users-- 200\r\n"
)


def test_an_iis_w3c_log_is_read_with_its_own_columns(tmp_path: Path) -> None:
    logs = tmp_path / "inetpub"
    logs.mkdir()
    (logs / "u_ex190903.log").write_text(W3C, encoding="utf-8", newline="")
    _, out, err = _detect(str(logs), "--format", "json", "--no-record")
    doc = json.loads(out)
    assert doc["files"]["read"] == 1 and doc["events"] == 3, (doc["files"], err)
    by_title = {a["title"]: a for a in doc["alerts"]}
    traversal = by_title["Path Traversal Attempt In Request"]
    assert traversal["source"]["record"] == 6
    assert traversal["event"]["cs-uri-query"] == "file=../../../windows/win.ini"
    assert traversal["timestamp"].startswith("2019-09-03T10:14:01") and traversal["timestamp"].endswith("Z")
    sqli = by_title["SQL Injection Attempt In Request"]
    assert sqli["event"]["c-ip"] == "10.0.2.18" and "UNION SELECT" in sqli["event"]["cs-uri-query"]
    assert "not a" not in err  # directives are the format's, not unreadable lines
