"""SigmaHQ's regression data: every case fires its rule, from the .evtx and from the .json sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mamori.detect import Detector, RuleSet, load_rules, read_events
from mamori.model import ScanError

_ID = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.MULTILINE)


def _cases(sigma: Path) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for info in sorted((sigma / "regression_data").rglob("info.yml")):
        data = yaml.safe_load(info.read_text(encoding="utf-8"))
        rule_id = data["rule_metadata"][0]["id"]
        for test in data.get("regression_tests_info") or []:
            if test.get("type") == "evtx":
                out.append((rule_id, sigma / test["path"]))
    return out


@pytest.fixture(scope="module")
def sigma(shared_data: Path) -> Path:
    return shared_data / "sigma"


@pytest.fixture(scope="module")
def regression(sigma: Path) -> tuple[list[tuple[str, Path]], RuleSet]:
    """The cases and the rules they name (only those files are loaded: fast)."""
    cases = _cases(sigma)
    wanted = {rid for rid, _ in cases}
    files: list[Path] = []
    for folder in ("rules", "rules-emerging-threats", "rules-threat-hunting"):
        for f in (sigma / folder).rglob("*.yml"):
            m = _ID.search(f.read_text(encoding="utf-8", errors="replace"))
            if m and m.group(1) in wanted:
                files.append(f)
    return cases, load_rules(files)


def test_there_are_202_cases(regression: tuple[list[tuple[str, Path]], RuleSet]) -> None:
    cases, ruleset = regression
    assert len(cases) == 202
    assert not ruleset.unsupported
    assert {rid for rid, _ in cases} <= set(ruleset.by_id())


@pytest.mark.parametrize("suffix", [".evtx", ".json"])
def test_every_case_fires_its_rule(regression: tuple[list[tuple[str, Path]], RuleSet], suffix: str) -> None:
    cases, ruleset = regression
    detector = Detector(ruleset)
    missed: list[str] = []
    for rule_id, evtx in cases:
        sample = evtx.with_suffix(suffix)
        errors: list[ScanError] = []
        fired = {r.id for ev in read_events(str(sample), errors) for r in detector.engine.match(ev)}
        assert not errors, errors
        if rule_id not in fired:
            missed.append(f"{rule_id} {sample.name}")
    assert missed == []


def test_evtx_and_json_samples_give_the_same_events(
    regression: tuple[list[tuple[str, Path]], RuleSet],
) -> None:
    """The JSON layout (Event.System / Event.EventData) flattens exactly like the EVTX records.

    Values are not compared one by one: a few shipped .json samples were edited by hand (trimmed
    blanks, a changed case), but every field, channel and event id must agree.
    """
    cases, _ = regression
    for _, evtx in cases:
        errors: list[ScanError] = []
        a = list(read_events(str(evtx), errors))
        b = list(read_events(str(evtx.with_suffix(".json")), errors))
        assert not errors
        assert [set(e.fields) for e in a] == [set(e.fields) for e in b], evtx.name
        assert [(e.fields["Channel"], e.fields["EventID"], e.logsource) for e in a] == [
            (e.fields["Channel"], e.fields["EventID"], e.logsource) for e in b
        ]
