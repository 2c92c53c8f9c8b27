"""`mamori detect` end to end: output formats, exit codes, time window, tie-back, live follow."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mamori.detect import Alert, Detector, detect_files, load_rules
from mamori.detect._rules import bundled_rules_path
from mamori.detect.command import detect_command
from mamori.errors import InputError
from mamori.model import AdvisoryRef, Finding, Location, Package, Report

LOGS = Path(__file__).resolve().parent / "fixtures" / "logs"
KEV_LOG = LOGS / "kev_exploits_access.log"
BENIGN_LOG = LOGS / "benign_access.log"
CONTRACT_KEYS = {"rule_id", "title", "level", "timestamp", "source", "tags", "event", "escalated", "exploits"}

app = typer.Typer()
app.command()(detect_command)
runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_jsonl_follows_the_contract() -> None:
    code, out = _invoke(str(KEV_LOG), "--format", "jsonl")
    assert code == 1  # --fail-on any by default
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) >= 33
    for a in lines:
        assert set(a) >= CONTRACT_KEYS
        assert a["level"] in {"informational", "low", "medium", "high", "critical"}
        assert a["source"]["path"] == str(KEV_LOG) and a["source"]["record"] >= 1
        assert a["escalated"] is False and a["exploits"] == []
    log4shell = [a for a in lines if "cve.2021-44228" in a["tags"]]
    assert [a["source"]["record"] for a in log4shell] == [33]
    assert log4shell[0]["event"]["cs-user-agent"].startswith("${jndi:ldap://")


def test_benign_log_exits_zero_and_fail_on_threshold() -> None:
    assert _invoke(str(BENIGN_LOG), "--format", "jsonl") == (0, "")
    # the XSS rule is medium: fails with --fail-on medium, not with --fail-on high on that line alone
    xss = LOGS / "xss_only.log"
    code_high, _ = _invoke(str(xss), "--format", "jsonl", "--fail-on", "high")
    code_medium, _ = _invoke(str(xss), "--format", "jsonl", "--fail-on", "medium")
    assert (code_high, code_medium) == (0, 1)


def test_json_document_has_summaries_and_rule_counts() -> None:
    code, out = _invoke(str(KEV_LOG), str(BENIGN_LOG), "--format", "json", "--fail-on", "critical")
    doc = json.loads(out)
    assert code == 1
    assert doc["rules"]["loaded"] == len(load_rules([bundled_rules_path()]).rules)
    assert doc["events"] == 33 + 7
    assert sum(r["alerts"] for r in doc["summary"]["by_rule"]) == len(doc["alerts"])
    assert {h["host"] for h in doc["summary"]["by_host"]} <= {a.get("host", "-") for a in doc["alerts"]}


def test_table_output_and_since_until() -> None:
    code, out = _invoke(str(KEV_LOG), "--since", "2025-03-12T10:00:30Z", "--until", "2025-03-12T10:00:31Z")
    assert code == 1
    assert "2 events" in out and "alerts per rule" in out and "alerts per host" in out


def test_bad_usage_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--format stix"):
        _invoke(str(KEV_LOG), "--format", "stix", "--follow")
    with pytest.raises(InputError, match="--format"):
        _invoke(str(KEV_LOG), "--format", "xml")
    with pytest.raises(InputError, match="no such log file"):
        _invoke(str(tmp_path / "missing.log"))
    with pytest.raises(InputError, match="--since"):
        _invoke(str(KEV_LOG), "--since", "yesterday-ish")
    with pytest.raises(InputError, match="--fail-on"):
        _invoke(str(KEV_LOG), "--fail-on", "severe")


def test_bad_file_among_good_ones_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path / "gone.log"), str(KEV_LOG), "--format", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    assert doc["errors"] == [{"path": str(tmp_path / "gone.log"), "line": 0, "message": "no such log file"}]
    assert doc["alerts"]


def test_user_rules_folder(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(
        "title: robots\nid: 9d9d9d9d-0000-4000-8000-000000000001\nlogsource:\n    category: webserver\n"
        "detection:\n    sel:\n        cs-uri-stem: /robots.txt\n    condition: sel\nlevel: low\n"
    )
    code, out = _invoke(str(BENIGN_LOG), "--rules", str(tmp_path), "--format", "jsonl")
    assert code == 1
    assert [json.loads(x)["source"]["record"] for x in out.splitlines()] == [7]


# ---------------------------------------------------------------- tie-back


def _record_scan(project: Path) -> tuple[str, str]:
    from mamori.config import results_db_path
    from mamori.results import ResultsStore

    dep = Finding(
        kind="dependency",
        rule_id="GHSA-jfh8-c2jp-5v3q",
        title="log4j-core RCE",
        severity="critical",
        location=Location("pom.xml", 12),
        package=Package("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", "pkg:maven/x@2.14.1"),
        advisory=AdvisoryRef("GHSA-jfh8-c2jp-5v3q", aliases=("CVE-2021-44228",)),
    )
    code = Finding(
        kind="code",
        rule_id="python.sqli",
        title="SQL injection",
        severity="high",
        location=Location("app.py", 3),
        cwe=("CWE-89",),
        fingerprint_basis="cursor.execute(q)",
    )
    fixed = Finding(
        kind="code",
        rule_id="python.xss",
        title="XSS",
        severity="medium",
        location=Location("app.py", 9),
        cwe=("CWE-79",),
        status="fixed",
    )
    ResultsStore(results_db_path()).record_scan(project, Report(findings=(dep, code, fixed)))
    return dep.id, code.id


def test_tieback_escalates_alerts_on_open_holes(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    dep_id, code_id = _record_scan(project)
    log = tmp_path / "access.log"
    log.write_text(
        (KEV_LOG.read_text().splitlines()[-1]) + "\n"
        '203.0.113.9 - - [12/Mar/2025:11:00:00 +0000] "GET /item?id=1%27+union+select+password+from+users-- HTTP/1.1" 200 9 "-" "sqlmap/1.7"\n'
        '203.0.113.9 - - [12/Mar/2025:11:00:01 +0000] "GET /q?x=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1" 200 9 "-" "curl/8"\n'
    )
    alerts = detect_files([log], project=project)
    by_record: dict[int, list[Alert]] = {}
    for a in alerts:
        by_record.setdefault(a.record, []).append(a)
    assert [a.exploits for a in by_record[1]] == [(dep_id,)]
    assert all(a.escalated for a in by_record[1])
    assert [a.exploits for a in by_record[2]] == [(code_id,)]
    # the XSS finding is fixed: the XSS alert is not escalated
    assert by_record[3] and not any(a.escalated for a in by_record[3])
    code, out = _invoke(str(log), "--project", str(project), "--format", "jsonl", "--fail-on", "act")
    assert code == 1 and sum(json.loads(x)["escalated"] for x in out.splitlines()) == 2


def test_tieback_without_stored_scan_warns_and_does_not_escalate(tmp_path: Path) -> None:
    code, out = _invoke(str(KEV_LOG), "--project", str(tmp_path), "--format", "jsonl", "--fail-on", "act")
    assert code == 0
    assert not any(json.loads(x)["escalated"] for x in out.splitlines())


# ---------------------------------------------------------------- live


def test_follow_alerts_on_appended_lines(tmp_path: Path) -> None:
    from mamori.detect._follow import follow

    log = tmp_path / "live.log"
    log.write_text(BENIGN_LOG.read_text())
    detector = Detector(load_rules([bundled_rules_path()]))
    got: list[Alert] = []
    arrived = threading.Event()

    def on_alert(a: Alert) -> None:
        got.append(a)
        arrived.set()

    stop = threading.Event()
    worker = threading.Thread(
        target=follow, args=([str(log)], detector, on_alert), kwargs={"stop": stop, "interval": 0.05}
    )
    worker.start()
    try:
        time.sleep(0.2)
        assert got == []
        with log.open("a") as fh:
            fh.write(KEV_LOG.read_text().splitlines()[-1][:60])  # half a line: waits for its end
            fh.flush()
            time.sleep(0.2)
            assert got == []
            fh.write(KEV_LOG.read_text().splitlines()[-1][60:] + "\n")
        assert arrived.wait(10)
    finally:
        stop.set()
        worker.join(10)
    assert [a.record for a in got] == [8]
    assert "cve.2021-44228" in got[0].tags
