"""Producing STIX from real report and alert files, the CLI round trip, and local detection rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.share.conftest import FIXTURES, LiveHub
from typer.testing import CliRunner

from mamori.share.stix import (
    ShareOptions,
    alerts_to_stix,
    observables_of,
    read_alerts,
    to_stix,
    validate_bundle,
)
from mamori.share.tlp import TLP2_MARKINGS, Tlp, may_read, parse_tlp, tlp_of

REPORT = FIXTURES / "report_jinja2_flask.json"
ALERTS = FIXTURES / "alerts_log4shell_web.jsonl"


def _app() -> typer.Typer:
    from mamori.share.command import hub_add_org_command, share_pull_command, share_push_command

    app = typer.Typer()
    hub = typer.Typer()
    hub.command("add-org")(hub_add_org_command)
    share = typer.Typer()
    share.command("push")(share_push_command)
    share.command("pull")(share_pull_command)
    app.add_typer(hub, name="hub")
    app.add_typer(share, name="share")
    return app


def test_report_becomes_valid_stix_with_cve_references() -> None:
    bundle = to_stix(REPORT.read_text(), ShareOptions(tlp=Tlp.AMBER, recipients=("Recipient Bank",)))
    assert validate_bundle(bundle) == []
    vulns = [o for o in bundle["objects"] if o["type"] == "vulnerability" and "x_mamori_rule" not in o]
    assert {v["name"] for v in vulns} == {"CVE-2019-10906", "CVE-2018-1000656"}
    refs = {(r["source_name"], r["external_id"]) for v in vulns for r in v["external_references"]}
    assert ("ghsa", "GHSA-462w-v97r-4m45") in refs and ("cwe", "CWE-693") in refs
    assert all(o["object_marking_refs"] == [TLP2_MARKINGS[Tlp.AMBER]] for o in bundle["objects"])
    assert all(o["x_mamori_recipients"] == ["Recipient Bank"] for o in bundle["objects"])
    (report,) = [o for o in bundle["objects"] if o["type"] == "report"]
    every = {o["id"] for o in bundle["objects"] if o["type"] == "vulnerability"}
    assert set(report["object_refs"]) == every and len(every) == len(vulns) + 1  # + the code weakness


def _code_weaknesses(bundle: dict[str, object]) -> list[dict[str, object]]:
    return [o for o in bundle["objects"] if o["type"] == "vulnerability" and "x_mamori_rule" in o]  # type: ignore[attr-defined]


def test_code_weakness_becomes_a_vulnerability_with_its_cwe() -> None:
    data = json.loads(REPORT.read_text())
    (code,) = [f for f in data["findings"] if f["kind"] == "code"]
    bundle = to_stix(REPORT.read_text(), ShareOptions(tlp=Tlp.GREEN, producer="Producer Bank"))
    assert validate_bundle(bundle) == []
    (weak,) = _code_weaknesses(bundle)
    assert weak["x_mamori_rule"] == code["rule_id"]
    assert weak["name"] == f"{code['cwe'][0]}: {code['title']}"
    assert weak["external_references"] == [
        {
            "source_name": "cwe",
            "external_id": code["cwe"][0],
            "url": f"https://cwe.mitre.org/data/definitions/{code['cwe'][0].split('-')[1]}.html",
        }
    ]
    assert f"{code['location']['path']}:{code['location']['line']}" in str(weak["description"])
    assert weak["labels"] == [f"severity:{code['severity']}"]


def test_anonymised_code_weakness_keeps_its_class_and_drops_every_victim_path() -> None:
    data = json.loads(REPORT.read_text())
    (code,) = [f for f in data["findings"] if f["kind"] == "code"]
    plain = to_stix(REPORT.read_text(), ShareOptions(tlp=Tlp.GREEN, producer="Producer Bank"))
    anon = to_stix(REPORT.read_text(), ShareOptions(tlp=Tlp.GREEN, producer="Producer Bank", anonymise=True))
    assert validate_bundle(anon) == []
    (weak,) = _code_weaknesses(anon)
    assert weak["id"] == _code_weaknesses(plain)[0]["id"]  # the same weakness, shared twice
    assert {r["external_id"] for r in weak["external_references"]} == set(code["cwe"])  # type: ignore[attr-defined]
    text = json.dumps(anon)
    victim = [code["location"]["path"], *(t["path"] for t in code["trace"]), data["target"]]
    victim += [f["location"]["path"] for f in data["findings"]]
    for path in victim:
        for part in (path, path.rsplit("/", 1)[-1]):
            assert part not in text, part
    assert "Producer Bank" not in text


def test_only_open_code_weaknesses_are_shared() -> None:
    data = json.loads(REPORT.read_text())
    for f in data["findings"]:
        if f["kind"] == "code":
            f["status"] = "not_affected"
            f["justification"] = "vulnerable_code_not_in_execute_path"
    bundle = to_stix(json.dumps(data), ShareOptions(tlp=Tlp.CLEAR))
    assert validate_bundle(bundle) == [] and _code_weaknesses(bundle) == []


def test_alerts_become_indicators_sightings_and_attack_patterns() -> None:
    bundle = to_stix(ALERTS.read_text(), ShareOptions(tlp=Tlp.GREEN, producer="Producer Bank"))
    assert validate_bundle(bundle) == []
    by_type: dict[str, list[dict[str, object]]] = {}
    for o in bundle["objects"]:
        by_type.setdefault(o["type"], []).append(o)
    patterns = " ".join(str(i["pattern"]) for i in by_type["indicator"])
    assert "[ipv4-addr:value = '45.155.205.233']" in patterns
    assert "[domain-name:value = 'c2.badactor.example.org']" in patterns
    assert (
        "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']"
        in patterns
    )
    assert "10.20.30.40" not in patterns  # a private address names the victim's network
    log4j = next(s for s in by_type["sighting"] if s["count"] == 2)
    assert (
        log4j["first_seen"] == "2024-05-01T10:00:03.000Z" and log4j["last_seen"] == "2024-05-01T10:05:00.000Z"
    )
    assert {a["name"] for a in by_type["attack-pattern"]} == {"T1190", "T1059.001", "T1033"}
    assert [v["name"] for v in by_type["vulnerability"]] == ["CVE-2021-44228"]
    # whoami has no observable: its sighting is of the attack pattern
    assert any(s["sighting_of_ref"].startswith("attack-pattern--") for s in by_type["sighting"])
    text = json.dumps(bundle)
    assert "web01.acme.corp" not in patterns and "/var/log/nginx/access.log" in text  # not anonymised


def test_anonymise_keeps_technique_and_indicators_and_drops_the_victim() -> None:
    plain = to_stix(ALERTS.read_text(), ShareOptions(producer="Producer Bank"))
    anon = to_stix(ALERTS.read_text(), ShareOptions(producer="Producer Bank", anonymise=True))
    assert validate_bundle(anon) == []
    text = json.dumps(anon)
    for secret in ("alice", "FIN-WS-042", "acme", "/var/log/nginx", "C:/logs", "Producer Bank", "fileserver"):
        assert secret.lower() not in text.lower(), secret
    pats = lambda b: sorted(o["pattern"] for o in b["objects"] if o["type"] == "indicator")  # noqa: E731
    assert pats(anon) == pats(plain)
    kinds = lambda b: sorted(o["name"] for o in b["objects"] if o["type"] == "attack-pattern")  # noqa: E731
    assert kinds(anon) == kinds(plain)
    report = to_stix(REPORT.read_text(), ShareOptions(anonymise=True))
    assert "acme-payments" not in json.dumps(report) and "requirements.txt" not in json.dumps(report)


def test_bad_alert_file_names_the_line(tmp_path: Path) -> None:
    from mamori.errors import InputError

    bad = tmp_path / "alerts.jsonl"
    bad.write_text(ALERTS.read_text().splitlines()[0] + "\n{broken\n")
    with pytest.raises(InputError) as info:
        read_alerts(bad.read_text(), source=str(bad))
    assert info.value.line == 2 and info.value.path == str(bad)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*TLP2_MARKINGS.values(), "marking-definition--00000000-0000-4000-8000-000000000000"]
        ),
        max_size=5,
    )
)
def test_tlp_of_is_the_most_restrictive_marking_whatever_the_order(refs: list[str]) -> None:
    known = [lvl for lvl, mid in TLP2_MARKINGS.items() if mid in refs]
    expected = max(known, key=lambda t: t.rank) if known else Tlp.AMBER
    assert tlp_of({"object_marking_refs": refs}) == expected
    assert tlp_of({"object_marking_refs": list(reversed(refs))}) == expected


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list(Tlp)), st.sampled_from(["P", "R", "O"]), st.sets(st.sampled_from(["R", "O"])))
def test_may_read_rules(level: Tlp, reader: str, recipients: set[str]) -> None:
    allowed = may_read(level, "P", recipients, reader)
    if reader == "P" or level in (Tlp.CLEAR, Tlp.GREEN):
        assert allowed
    elif level is Tlp.AMBER_STRICT:
        assert not allowed
    else:
        assert allowed == (reader in recipients)
    assert parse_tlp(level.value) is level


def test_observables_ignore_noise() -> None:
    event = {
        "Image": "C:\\Windows\\explorer.exe",
        "QueryName": "invoice.exe",
        "Version": "10.0.19041.1",
        "ip": "192.168.1.5",
    }
    assert observables_of(event) == []


def test_cli_add_org_push_pull_and_local_detection(
    live_hub: LiveHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    app = _app()
    db = live_hub.hub.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    added = runner.invoke(
        app, ["hub", "add-org", "Peer Bank", "--sector", "finance", "--role", "reader", "--database", db]
    )
    assert added.exit_code == 0, added.output
    peer_token = added.output.strip().splitlines()[-1]
    bad_sector = runner.invoke(app, ["hub", "add-org", "X", "--sector", "banking", "--database", db])
    assert bad_sector.exit_code != 0

    push = runner.invoke(
        app,
        [
            "share",
            "push",
            str(ALERTS),
            "--server",
            live_hub.url,
            "--collection",
            "finance",
            "--tlp",
            "amber",
            "--to",
            "Peer Bank",
            "--anonymise",
        ],
        env={"MAMORI_TOKEN": live_hub.tokens["Producer Bank"]},
    )
    assert push.exit_code == 0, push.output
    strict = runner.invoke(
        app,
        [
            "share",
            "push",
            str(REPORT),
            "--server",
            live_hub.url,
            "--collection",
            "finance",
            "--tlp",
            "amber+strict",
        ],
        env={"MAMORI_TOKEN": live_hub.tokens["Producer Bank"]},
    )
    assert strict.exit_code == 0, strict.output
    wrong = runner.invoke(
        app,
        [
            "share",
            "push",
            str(REPORT),
            "--server",
            live_hub.url,
            "--collection",
            "finance",
            "--tlp",
            "green",
            "--to",
            "Peer Bank",
        ],
        env={"MAMORI_TOKEN": live_hub.tokens["Producer Bank"]},
    )
    assert wrong.exit_code != 0

    for who, token, user in (
        ("peer", peer_token, "Peer Bank"),
        ("other", live_hub.tokens["Other Bank"], None),
    ):
        monkeypatch.setenv("MAMORI_HOME", str(tmp_path / who))
        (tmp_path / who).mkdir()
        args = ["share", "pull", "--server", live_hub.url, "--collection", "finance", "--token", token]
        args += ["--format", "json"]
        pulled = runner.invoke(app, [*args, *(["--user", user] if user else [])])
        assert pulled.exit_code == 0, pulled.output
        summary = json.loads(pulled.output.strip().splitlines()[-1])
        import mamori.share as share

        matches = share.indicator_matches({"c-ip": "45.155.205.233", "cs-uri": "/"})
        if who == "peer":  # named recipient of the AMBER alerts; not of the AMBER+STRICT report
            assert summary["detection_rules"] == 2 and matches
            assert matches[0].indicator.name == "Log4j RCE CVE-2021-44228 Generic"
            assert "CVE-2021-44228" in share.peer_vulnerabilities()
            assert "CVE-2019-10906" not in share.peer_vulnerabilities()
            again = runner.invoke(app, [*args, "--user", "Peer Bank"])
            assert json.loads(again.output.strip().splitlines()[-1])["received"] == 0  # resumes
        else:
            assert summary["received"] == 0 and matches == []

    down = runner.invoke(
        app, ["share", "pull", "--server", "http://127.0.0.1:9", "--collection", "finance", "--token", "x"]
    )
    assert down.exit_code != 0


def test_alerts_to_stix_is_deterministic_for_the_same_input() -> None:
    from datetime import UTC, datetime

    when = datetime(2024, 5, 2, tzinfo=UTC)
    alerts = read_alerts(ALERTS.read_text())
    assert alerts_to_stix(alerts, ShareOptions(), when=when) == alerts_to_stix(
        alerts, ShareOptions(), when=when
    )
