"""detect and the share stage: STIX output, peers' indicators as rules, alerts for the dashboard.

The end-to-end case runs the whole loop between two organisations on a real hub (SQLite, served
by uvicorn on 127.0.0.1): the producer's ``mamori detect --format stix`` output is pushed with
``mamori share push``, the peer pulls it with ``mamori share pull``, and the peer's own
``mamori detect`` raises a *Peer indicator* alert on a request from the same attacker.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli import app as mamori_app
from mamori.config import results_db_path
from mamori.detect import Detector, detect_files, load_rules
from mamori.detect._detector import PEER_INDICATOR_TAG
from mamori.detect._rules import bundled_rules_path
from mamori.model import AdvisoryRef, Finding, Location, Package, Report
from mamori.results import ResultsStore
from mamori.share.stix import validate_bundle

LOGS = Path(__file__).resolve().parent / "fixtures" / "logs"
KEV_LOG = LOGS / "kev_exploits_access.log"
BENIGN_LOG = LOGS / "benign_access.log"
PRODUCER_LOG = LOGS / "peer_producer_access.log"
CONSUMER_LOG = LOGS / "peer_consumer_access.log"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
runner = CliRunner()


def _detect(*args: str) -> tuple[int, str]:
    result = runner.invoke(mamori_app, ["detect", *args])
    return result.exit_code, result.stdout


# ---------------------------------------------------------------- --format stix


def test_stix_output_is_a_valid_amber_bundle_of_the_alerts() -> None:
    code, out = _detect(str(KEV_LOG), str(PRODUCER_LOG), "--format", "stix")
    assert code == 1
    bundle = json.loads(out)
    assert validate_bundle(bundle) == []
    objects = bundle["objects"]
    assert all(o["object_marking_refs"] == [AMBER] for o in objects)
    _, jsonl = _detect(str(KEV_LOG), str(PRODUCER_LOG), "--format", "jsonl")
    alerts = [json.loads(x) for x in jsonl.splitlines()]
    sightings = [o for o in objects if o["type"] == "sighting"]
    assert sum(s["count"] for s in sightings) == len(alerts)
    cves = {o["name"] for o in objects if o["type"] == "vulnerability"}
    assert "CVE-2021-44228" in cves
    # the public attacker address becomes an indicator; the documentation ranges never do
    patterns = [o["pattern"] for o in objects if o["type"] == "indicator"]
    assert any("45.155.205.233" in p for p in patterns)
    assert not any("198.51.100." in p for p in patterns)


def test_stix_of_a_benign_log_is_a_valid_bundle_without_sightings() -> None:
    code, out = _detect(str(BENIGN_LOG), "--format", "stix")
    bundle = json.loads(out)
    assert code == 0 and validate_bundle(bundle) == []
    assert [o["type"] for o in bundle["objects"]] == ["identity"]


# ---------------------------------------------------------------- results for the dashboard


def _stored_alerts() -> list[tuple[str, str, int, str]]:
    """(target, rule id, record, path) of the stored alerts, in run and emission order."""
    records = ResultsStore(results_db_path()).alerts(limit=100_000)
    ordered = sorted(records, key=lambda r: (r.run_id, r.seq))
    return [(r.target, r.rule_id, r.record, r.path) for r in ordered]


def test_a_run_records_its_alerts_once_in_the_results_database() -> None:
    code, out = _detect(str(KEV_LOG), "--format", "jsonl")
    emitted = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and emitted
    stored = _stored_alerts()
    assert [(s[1], s[2]) for s in stored] == [(a["rule_id"], a["source"]["record"]) for a in emitted]
    assert {s[0] for s in stored} == {""}  # no --project
    alerts = detect_files([BENIGN_LOG, PRODUCER_LOG])
    assert len(_stored_alerts()) == len(stored) + len(alerts)
    detect_files([PRODUCER_LOG], record=False)
    assert len(_stored_alerts()) == len(stored) + len(alerts)


def test_follow_records_alerts_in_batches_while_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import mamori.detect.command as command

    monkeypatch.setattr(command, "FOLLOW_RECORD_EVERY", 0.0)
    log = tmp_path / "live.log"
    log.write_text(BENIGN_LOG.read_text())
    attack = KEV_LOG.read_text().splitlines()[-1] + "\n"
    detector = Detector(load_rules([bundled_rules_path()]))
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(
            command._run_follow([str(log)], detector, out, "jsonl", "high", None, stop=stop)
        )
    )
    worker.start()
    try:
        with log.open("a") as fh:
            fh.write(attack)
        deadline = time.monotonic() + 60  # a wait, not a timing: a loaded machine is slow
        while not _stored_alerts() and time.monotonic() < deadline:
            time.sleep(0.05)
        stored = _stored_alerts()  # recorded while still following
        assert worker.is_alive() and [s[2] for s in stored] == [8]
    finally:
        stop.set()
        worker.join(10)
    assert result == [1]
    assert _stored_alerts() == stored  # nothing recorded twice at the end
    assert [json.loads(x)["source"]["record"] for x in out.getvalue().splitlines()] == [8]


# ---------------------------------------------------------------- peers' indicators


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _hub(db: Path) -> Iterator[tuple[str, dict[str, str]]]:
    import uvicorn

    from mamori.share._hub import Hub
    from mamori.share._server import create_app

    hub = Hub.open(f"sqlite:///{db}")
    tokens = {name: hub.add_org(name, "finance", "writer") for name in ("Producer Bank", "Peer Bank")}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        hub.close()


def _record_log4j_scan(project: Path) -> str:
    dep = Finding(
        kind="dependency",
        rule_id="GHSA-jfh8-c2jp-5v3q",
        title="Log4Shell",
        severity="critical",
        location=Location("pom.xml", 12),
        package=Package(
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        ),
        advisory=AdvisoryRef(id="GHSA-jfh8-c2jp-5v3q", aliases=("CVE-2021-44228",)),
    )
    ResultsStore(results_db_path()).record_scan(project, Report(findings=(dep,)))
    return dep.id


def test_a_peers_sighting_becomes_a_local_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    producer_home, peer_home = tmp_path / "producer", tmp_path / "peer"
    producer_home.mkdir()
    peer_home.mkdir()
    with _hub(tmp_path / "hub.sqlite") as (url, tokens):
        # the producer detects the attack and shares it with the peer (AMBER, named recipient)
        monkeypatch.setenv("MAMORI_HOME", str(producer_home))
        code, stix = _detect(str(PRODUCER_LOG), "--format", "stix")
        assert code == 1 and validate_bundle(json.loads(stix)) == []
        bundle_file = tmp_path / "alerts.stix.json"
        bundle_file.write_text(stix)
        push = runner.invoke(
            mamori_app,
            [
                "share",
                "push",
                str(bundle_file),
                "--server",
                url,
                "--collection",
                "finance",
                "--to",
                "Peer Bank",
            ],
            env={"MAMORI_TOKEN": tokens["Producer Bank"]},
        )
        assert push.exit_code == 0, push.output

        # before pulling, the peer's log raises nothing
        monkeypatch.setenv("MAMORI_HOME", str(peer_home))
        assert Detector(load_rules([bundled_rules_path()])).peers_active is False
        assert _detect(str(CONSUMER_LOG), "--format", "jsonl") == (0, "")
        pull = runner.invoke(
            mamori_app,
            ["share", "pull", "--server", url, "--collection", "finance", "--token", tokens["Peer Bank"]],
        )
        assert pull.exit_code == 0, pull.output

    code, out = _detect(str(CONSUMER_LOG), "--format", "jsonl", "--fail-on", "high")
    alerts = [json.loads(x) for x in out.splitlines()]
    assert code == 1
    assert [a["source"]["record"] for a in alerts] == [2]
    alert = alerts[0]
    shared = json.loads(stix)
    indicator = next(o for o in shared["objects"] if o["type"] == "indicator")
    assert alert["rule_id"] == indicator["id"]
    assert alert["title"] == f"Peer indicator: {indicator['name']}"
    assert alert["level"] == "high"
    assert PEER_INDICATOR_TAG in alert["tags"] and "cve.2021-44228" in alert["tags"]
    assert alert["event"]["share.observable"] == "45.155.205.233"
    assert alert["event"]["c-ip"] == "45.155.205.233"

    # the peer's sighting names a CVE the peer's project has open: escalated
    project = tmp_path / "shop"
    project.mkdir()
    finding_id = _record_log4j_scan(project)
    escalated = detect_files([CONSUMER_LOG], project=project)
    assert [(a.record, a.escalated, a.exploits) for a in escalated] == [(2, True, (finding_id,))]

    # a detector told to ignore the store stays quiet
    quiet = Detector(load_rules([bundled_rules_path()]), peer_indicators=False)
    assert quiet.peers_active is False


def test_without_a_share_store_nothing_is_created_or_matched(mamori_home: Path) -> None:
    detector = Detector(load_rules([bundled_rules_path()]))
    assert detector.peers_active is False
    assert list(detector.run_files([str(CONSUMER_LOG)])) == []
    assert not (mamori_home / "share.sqlite").exists()
