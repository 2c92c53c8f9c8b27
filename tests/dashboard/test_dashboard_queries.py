"""The results database's dashboard queries, on the data of the real pipeline (``mamori demo``).

Each figure is checked against an independent source: the report files the demo wrote, the
stored JSON reports through the pre-existing ``last_scan`` API, the detect stage re-run on the
same logs, and the clock arithmetic done here again from the stored times.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.results import DECISIONS, ResultsStore, decision_of, mean, p90


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _open_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(DECISIONS, 0)
    for f in findings:
        if f["status"] == "open":
            counts[decision_of(f)] += 1
    return counts


def test_posture_is_the_newest_scan_open_findings(demo: Any) -> None:
    store = ResultsStore(demo.results)
    newest = store.last_scan_findings(demo.project)
    assert newest is not None
    posture = store.posture()
    assert posture.by_decision() == _open_counts(newest)
    assert {f.id for f in posture.findings} == {f["id"] for f in newest if f["status"] == "open"}
    # the sample's mamori.toml names its asset and sector
    assert set(posture.by_asset()) == {"kotsu-kanri"}
    assert set(posture.by_sector()) == {"railways"}
    assert posture.by_asset()["kotsu-kanri"] == posture.by_decision()
    # most urgent first
    ranks = [DECISIONS.index(f.decision) for f in posture.findings]
    assert ranks == sorted(ranks)


def test_trend_starts_at_the_first_report_and_ends_at_the_posture(demo: Any) -> None:
    store = ResultsStore(demo.results)
    trend = store.trend()
    assert [p.scan_id for p in trend] == sorted(r.id for r in store.scans())
    first_report = json.loads((demo.out / "report.json").read_text(encoding="utf-8"))
    assert dict(trend[0].counts) == _open_counts(first_report["findings"])
    assert dict(trend[-1].counts) == store.posture().by_decision()
    assert trend[-1].total < trend[0].total  # the demo fixed things
    # a trend point's findings are the posture as it was after that scan
    assert store.posture(upto_scan=trend[0].scan_id).by_decision() == dict(trend[0].counts)


def test_oldest_item_is_the_earliest_first_seen(demo: Any) -> None:
    posture = ResultsStore(demo.results).posture()
    oldest_act = posture.oldest("act")
    assert oldest_act is None or oldest_act.decision == "act"
    for decision in DECISIONS:
        found = posture.oldest(decision)
        pick = [f for f in posture.findings if f.decision == decision]
        assert (found is None) == (not pick)
        if found is not None:
            assert found.first_seen == min(f.first_seen for f in pick)
            assert found.age_seconds >= 0


def test_published_to_detected_leaves_out_what_a_first_scan_found(demo: Any) -> None:
    """A project's first scan finds advisories years old: their age is not mamori's speed, so
    they are counted as the figure's baseline and the page says why (issue 12); an advisory
    first seen by a later scan of the same project is a sample, timed from that scan."""
    store = ResultsStore(demo.results)
    exposure = store.speed()[0]
    with sqlite3.connect(demo.results) as con:
        scans = con.execute("SELECT id, target, started, report FROM scans ORDER BY id").fetchall()
    seen: set[tuple[str, str]] = set()
    first_of: dict[str, int] = {}
    baseline = 0
    expected: dict[str, float] = {}
    for scan_id, target, started, text in scans:
        first_of.setdefault(target, scan_id)
        for f in json.loads(text)["findings"]:
            if (target, f["id"]) in seen:
                continue
            seen.add((target, f["id"]))
            published = (f.get("advisory") or {}).get("published")
            if f["kind"] != "dependency" or not published:
                continue
            if first_of[target] == scan_id:
                baseline += 1
            else:
                expected[f["id"]] = max(0.0, (_t(started) - _t(published)).total_seconds())
    report = json.loads((demo.out / "report.json").read_text(encoding="utf-8"))
    assert (
        baseline
        >= sum(
            1
            for f in report["findings"]
            if f["kind"] == "dependency" and f.get("advisory", {}).get("published")
        )
        > 0
    )  # the demo's first scan found years-old advisories: they are the baseline
    assert exposure.baseline == baseline
    assert {s.finding_id: s.seconds for s in exposure.samples} == pytest.approx(expected)


def test_fix_figures_follow_the_recorded_fix_run(demo: Any) -> None:
    store = ResultsStore(demo.results)
    _, to_fix, to_seen = store.speed()
    with sqlite3.connect(demo.results) as con:
        verified = dict(
            con.execute(
                "SELECT finding_id, verified_at FROM fixes WHERE status = 'verified' AND verified_at IS NOT NULL"
            ).fetchall()
        )
        statuses = Counter(s for (s,) in con.execute("SELECT status FROM fixes"))
    # the demo's own summary line agrees with what was recorded
    assert f"Fix: {statuses['verified']} fixes verified" in demo.output
    assert {s.finding_id for s in to_fix.samples} == set(verified)
    first_seen = {f.id: f for f in store.posture(upto_scan=1).findings}
    for s in to_fix.samples:
        assert s.end == verified[s.finding_id]
        if s.finding_id in first_seen:
            assert s.start == first_seen[s.finding_id].first_seen
        assert s.seconds == pytest.approx(max(0.0, (_t(s.end) - _t(s.start)).total_seconds()))
    # fixed versions are seen by the re-scan: every verified fix no longer open there
    newest = {f["id"] for f in store.last_scan_findings(demo.project) or [] if f["status"] == "open"}
    assert {s.finding_id for s in to_seen.samples} == set(verified) - newest
    rescan = max(r.id for r in store.scans())
    assert {s.group for s in to_seen.samples} == {f"scan {rescan}"}


def test_alerts_are_the_detect_stage(demo: Any) -> None:
    from mamori.detect import detect_files

    stored = ResultsStore(demo.results).alerts()
    # detect_files records its alerts (the demo's way in); this re-run goes to the test's own home
    again = detect_files(sorted((demo.project / "logs").glob("*.log")), project=None)
    assert len(stored) == len(again) > 0
    assert Counter(a.rule_id for a in stored) == Counter(a.rule_id for a in again)
    assert [a.escalated for a in stored] == sorted((a.escalated for a in stored), reverse=True)


def test_escalated_alerts_come_first_linked_to_finding_and_fix(demo: Any, tmp_path: Path) -> None:
    import dataclasses
    import shutil

    from mamori.detect import detect_files

    copy = tmp_path / "results.sqlite"
    shutil.copy(demo.results, copy)
    store = ResultsStore(copy)
    fixed = next(iter(store.speed()[1].samples)).finding_id
    alerts = detect_files(sorted((demo.project / "logs").glob("*.log")), project=None)
    # one alert of a later run targets a hole we had (the tie-back's verdict, written as it does)
    target = dataclasses.replace(alerts[0], escalated=True, exploits=(fixed,))
    store.record_alerts(demo.project, [*alerts[1:], target])
    stored = store.alerts()
    assert [a.escalated for a in stored] == sorted((a.escalated for a in stored), reverse=True)
    ours = next(a for a in stored if a.exploits == (fixed,))
    assert ours.escalated
    assert store.alert(ours.ref) == ours
    detail = store.finding(fixed)
    assert detail is not None
    assert ours in detail.alerts
    assert detail.fixes and detail.fixes[0].status == "verified"


def test_finding_detail_has_trace_reasons_and_diff(demo: Any) -> None:
    store = ResultsStore(demo.results)
    with sqlite3.connect(demo.results) as con:
        fid = con.execute(
            "SELECT finding_id FROM fixes WHERE status = 'verified' AND kind = 'code' AND diff != ''"
        ).fetchone()[0]
    detail = store.finding(fid)
    assert detail is not None
    assert detail.finding["trace"] and detail.finding["priority"]["reasons"]
    assert not detail.open_now
    assert detail.fixes[0].diff.startswith("--- a/")
    assert store.finding("no-such-finding") is None
    assert store.alert("x-1") is None and store.alert("999-0") is None


def test_a_broken_stored_report_never_crashes_the_queries(demo: Any, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "results.sqlite"
    shutil.copy(demo.results, copy)
    with sqlite3.connect(copy) as con:
        newest = con.execute("SELECT MAX(id) FROM scans").fetchone()[0]
        con.execute("UPDATE scans SET report = '{not json' WHERE id = ?", (newest,))
        con.execute("UPDATE alerts SET exploits = 'nope'")
    store = ResultsStore(copy)
    assert store.posture().findings == ()
    assert len(store.speed()) == 3
    assert all(a.exploits == () for a in store.alerts())


def test_an_empty_database_answers_with_nothing(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    assert store.posture().findings == () and store.trend() == ()
    assert all(f.samples == () and f.mean is None and f.p90 is None for f in store.speed())
    assert store.alerts() == ()


durations = st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=50)


@given(durations)
def test_p90_lies_between_the_median_and_the_maximum(values: list[float]) -> None:
    import statistics

    p = p90(values)
    assert p is not None
    assert statistics.median(values) - 1e-6 <= p <= max(values) + 1e-6


@given(durations, st.randoms())
def test_mean_and_p90_ignore_order(values: list[float], rnd: Any) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert p90(shuffled) == p90(values)
    assert mean(shuffled) == pytest.approx(mean(values))


@given(durations, st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_p90_shifts_with_the_data(values: list[float], shift: float) -> None:
    base = p90(values)
    moved = p90([v + shift for v in values])
    assert base is not None and moved is not None
    assert moved == pytest.approx(base + shift, rel=1e-9, abs=1e-6)


def test_p90_of_ten_ranks() -> None:
    assert p90([float(i) for i in range(1, 11)]) == pytest.approx(9.1)
    assert p90([]) is None and mean([]) is None
