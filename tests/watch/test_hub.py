"""The sector hub as a feed: a peer's report of a vulnerability raises its rank in the fleet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.share.conftest import ORGS, serve
from tests.watch.conftest import Setup
from tests.watch.world import load_advisory, now_iso

from mamori.watch import Watcher, load_fleet
from mamori.watch.service import state_path
from mamori.watch.state import WatchState


def _cycle(fleet: Path, lines: list[str]) -> None:
    watcher = Watcher(load_fleet(fleet), say=lines.append)
    try:
        watcher.cycle()
    finally:
        watcher.close()


def test_a_peers_vulnerability_reranks_the_projects_it_names(
    setup: Setup, tmp_path: Path, mamori_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mamori.output.interface import render
    from mamori.scan import ScanOptions, scan_targets
    from mamori.share._client import Credentials, TaxiiClient
    from mamori.share.stix import ShareOptions, to_stix
    from mamori.share.tlp import Tlp

    with serve(f"sqlite:///{tmp_path / 'hub.sqlite'}", ORGS) as live:
        monkeypatch.setenv("MAMORI_TEST_HUB_TOKEN", live.tokens["Recipient Bank"])
        setup.fleet.write_text(
            setup.fleet.read_text().replace(
                "[[project]]",
                f'[hub]\nurl = "{live.url}"\ncollection = "finance"\ntoken_env = "MAMORI_TEST_HUB_TOKEN"\n\n[[project]]',
                1,
            )
        )
        stamp = now_iso()
        setup.world.publish(
            "PyPI", {**load_advisory("PYSEC-2021-142"), "published": stamp, "modified": stamp}
        )
        lines: list[str] = []
        _cycle(setup.fleet, lines)
        state = WatchState(state_path())
        try:
            (before,) = state.findings_of("app")
        finally:
            state.close()
        assert not any("peers" in r for r in before["reasons"])

        # a peer of the same sector scans its own copy and shares the report through the hub
        report = scan_targets(
            [setup.work],
            ScanOptions(offline=True, code=False, record=False, database=mamori_home / "advisories.sqlite"),
        )
        bundle = to_stix(render(report, "json"), ShareOptions(tlp=Tlp.GREEN, producer="Producer Bank"))
        with TaxiiClient(live.url, Credentials(live.tokens["Producer Bank"])) as client:
            status = client.push("finance", bundle["objects"])
        assert status.get("success_count"), status

        lines.clear()
        _cycle(setup.fleet, lines)
        assert any("newly reported by peers; re-ranked app" in line for line in lines), lines
        assert any("app: re-prioritised (hub)" in line for line in lines), lines
        state = WatchState(state_path())
        try:
            (after,) = state.findings_of("app")
        finally:
            state.close()
        assert any("shared by peers of the hub" in r for r in after["reasons"]), after["reasons"]
        assert after["score"] > before["score"]
        lines.clear()
        _cycle(setup.fleet, lines)  # nothing new on the hub: nothing re-ranked
        assert not any("re-prioritised (hub)" in line for line in lines)
        assert json.dumps(after)  # plain data
