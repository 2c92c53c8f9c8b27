"""The bundled rule pack (web CVEs of CISA KEV, generic attack classes) and the SigmaHQ set."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import yaml

from mamori.detect import Detector, RuleSet, bundled_rules_path, detect_files, load_rules
from mamori.detect._readers import parse_access

LOGS = Path(__file__).resolve().parent / "fixtures" / "logs"


@pytest.fixture(scope="module")
def pack() -> RuleSet:
    return load_rules([bundled_rules_path()])


def test_pack_loads_whole_with_stable_unique_ids(pack: RuleSet) -> None:
    files = sorted(bundled_rules_path().rglob("*.yml"))
    assert len(pack.rules) == len(files) and not pack.unsupported
    ids = [r.id for r in pack.rules]
    assert len(set(ids)) == len(ids)
    for f in files:
        doc = yaml.safe_load(f.read_text())
        assert str(uuid.UUID(doc["id"])) == doc["id"]
        assert any(t.startswith("attack.") for t in doc["tags"]), f.name
        assert doc["level"] in {"low", "medium", "high", "critical"}


def test_every_cve_tag_is_in_cisa_kev(pack: RuleSet, shared_data: Path) -> None:
    kev = json.loads((shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text())
    known = {v["cveID"] for v in kev["vulnerabilities"]}
    cves = {f"CVE-{t[4:].upper()}" for r in pack.rules for t in r.tags if t.startswith("cve.")}
    assert len(cves) >= 30
    assert cves <= known, cves - known
    for r in pack.rules:
        if "/cve/" in r.path.replace("\\", "/"):
            assert any(t.startswith("cve.") for t in r.tags), r.path


def test_each_cve_rule_fires_on_its_exploit_line_and_nothing_on_benign_traffic(pack: RuleSet) -> None:
    alerts = detect_files([LOGS / "kev_exploits_access.log"], pack)
    fired = {Path(r.path).stem for r in pack.rules if r.id in {a.rule_id for a in alerts}}
    cve_rules = {Path(r.path).stem for r in pack.rules if Path(r.path).stem.startswith("cve_")}
    assert cve_rules <= fired, cve_rules - fired
    lines = (LOGS / "kev_exploits_access.log").read_text().splitlines()
    assert {a.record for a in alerts} == set(range(1, len(lines) + 1))
    assert detect_files([LOGS / "benign_access.log"], pack) == []


def test_generic_classes_on_a_sample_of_http_params(pack: RuleSet, shared_data: Path) -> None:
    """The first values of each class of the HttpParams data set, as browser-encoded requests."""
    by_class: dict[str, list[str]] = defaultdict(list)
    with (shared_data / "http-params" / "payload_full.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if len(by_class[row["attack_type"]]) < (2000 if row["attack_type"] == "norm" else 80):
                by_class[row["attack_type"]].append(row["payload"])
    det = Detector(pack)
    rate: dict[str, float] = {}
    for label, values in by_class.items():
        hits = 0
        for i, v in enumerate(values):
            line = f'192.0.2.1 - - [01/Jan/2025:00:00:00 +0000] "GET /p?v={quote_plus(v)} HTTP/1.1" 200 1 "-" "UA"'
            ev = parse_access(line, "mem", i + 1)
            assert ev is not None
            hits += bool(det.process(ev))
        rate[label] = hits / len(values)
    assert rate["norm"] <= 0.01
    for label in ("sqli", "xss", "path-traversal", "cmdi"):
        assert rate[label] >= 0.75, (label, rate[label])


@pytest.mark.slow
def test_whole_sigmahq_set_loads_or_is_listed(shared_data: Path) -> None:
    sigma = shared_data / "sigma"
    folders = [sigma / d for d in ("rules", "rules-emerging-threats", "rules-threat-hunting")]
    files = [f for d in folders for f in d.rglob("*.yml")]
    rs = load_rules(folders)
    assert len(rs.rules) + len(rs.unsupported) >= len(files)
    assert all(u.reason for u in rs.unsupported)
    windows = [r for r in rs.rules if re.match(r"^rules[/\\]windows", str(Path(r.path).relative_to(sigma)))]
    assert len(windows) == len(list((sigma / "rules" / "windows").rglob("*.yml")))
