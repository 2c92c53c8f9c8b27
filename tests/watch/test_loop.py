"""The loop end to end, in process: a new advisory on a loopback OSV feed becomes a verified fix
on a branch of the project's (bare) remote and a merge request on the loopback forge, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.watch.conftest import Setup, write_fleet
from tests.watch.world import TOKEN, World, git, kev_entry, load_advisory, make_npm_project, now_iso

from mamori.watch import Watcher, collect_status, load_fleet


def _fresh(name: str) -> dict:  # type: ignore[type-arg]
    rec = load_advisory(name)
    stamp = now_iso()
    return {**rec, "published": stamp, "modified": stamp}


def _cycle(fleet: Path, lines: list[str]) -> dict:  # type: ignore[type-arg]
    watcher = Watcher(load_fleet(fleet), say=lines.append)
    try:
        return watcher.cycle()
    finally:
        watcher.close()


def test_new_advisory_becomes_one_verified_proposal(setup: Setup) -> None:
    world = setup.world
    lines: list[str] = []
    _cycle(setup.fleet, lines)
    assert any("app: indexed 1 component" in line for line in lines), lines
    assert world.pulls == {} and not any(h["body"]["event"] == "proposed" for h in world.hooks)
    assert "GET /osv/PyPI/all.zip" in world.requests  # the first poll loads the ecosystem once

    world.requests.clear()
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet, lines)
    osv = [r for r in world.requests if "/osv/" in r]
    # incremental: the index and the one changed record, never all.zip or the old record
    assert osv == ["GET /osv/PyPI/modified_id.csv", "GET /osv/PyPI/PYSEC-2021-142.json"], osv

    pulls = world.pulls["acme/app"]
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["base"]["ref"] == "main" and pull["head"]["ref"].startswith("mamori/fix-pyyaml-5.4-")
    assert (
        "PYSEC-2021-142" in pull["body"]
        and "verification:" in pull["body"]
        and "+pyyaml==5.4" in pull["body"]
    )
    # the branch is in the remote, upgrades the package, and the watched branch is untouched
    branch = pull["head"]["ref"]
    assert git("show", f"{branch}:requirements.txt", cwd=setup.bare).strip() == "pyyaml==5.4"
    assert git("show", "main:requirements.txt", cwd=setup.bare).strip() == "pyyaml==5.3"
    assert git("rev-list", "--count", f"main..{branch}", cwd=setup.bare).strip() == "1"
    proposed = [h for h in world.hooks if h["body"]["event"] == "proposed"]
    assert len(proposed) == 1 and proposed[0]["body"]["url"] == pull["html_url"]
    assert proposed[0]["delivery"] == proposed[0]["body"]["delivery"]

    # the advisory changes again (a new modified time): fetched, re-evaluated, not proposed again
    world.requests.clear()
    world.publish(
        "PyPI",
        {
            **load_advisory("PYSEC-2021-142"),
            "published": pull and _fresh("PYSEC-2021-142")["published"],
            "modified": now_iso(),
        },
    )
    _cycle(setup.fleet, lines)
    assert "GET /osv/PyPI/PYSEC-2021-142.json" in world.requests
    assert len(world.pulls["acme/app"]) == 1
    assert len([h for h in world.hooks if h["body"]["event"] == "proposed"]) == 1

    state_lines = collect_status(load_fleet(setup.fleet), Watcher(load_fleet(setup.fleet)).ctx.state)
    fixes = state_lines["latency"]["fixes"]
    assert fixes and all(f["published_to_proposed"] > 0 for f in fixes)
    assert {p["state"] for p in state_lines["proposals"]} == {"proposed"}


def test_kev_addition_escalates_and_notifies(setup: Setup) -> None:
    world = setup.world
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    lines: list[str] = []
    _cycle(setup.fleet, lines)
    assert len(world.pulls.get("acme/app", [])) == 1
    world.kev.append(kev_entry("CVE-2020-14343"))
    _cycle(setup.fleet, lines)
    escalated = [h["body"] for h in world.hooks if h["body"]["event"] == "escalated"]
    assert escalated and escalated[0]["kev"] == "CVE-2020-14343"
    assert escalated[0]["finding"]["decision"] in ("act", "attend")
    assert any("KEV" in r for r in escalated[0]["finding"]["reasons"]), escalated[0]["finding"]["reasons"]
    assert len(world.pulls["acme/app"]) == 1  # escalation does not propose the same fix again
    watcher = Watcher(load_fleet(setup.fleet))
    try:
        (kev,) = collect_status(load_fleet(setup.fleet), watcher.ctx.state)["kev"]
    finally:
        watcher.close()
    assert kev["cve"] == "CVE-2020-14343" and kev["project"] == "app" and kev["seen_to_notified"] >= 0


def test_a_flood_of_changes_reloads_all_zip_once(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from mamori.watch.feeds import osv

    world = setup.world
    lines: list[str] = []
    _cycle(setup.fleet, lines)
    monkeypatch.setattr(osv, "MAX_SINGLE_FETCHES", 1)
    world.requests.clear()
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    world.publish("PyPI", _fresh("PYSEC-2020-96"))
    _cycle(setup.fleet, lines)
    got = [r for r in world.requests if "/osv/" in r]
    assert got == ["GET /osv/PyPI/modified_id.csv", "GET /osv/PyPI/all.zip"], got
    assert any("reloading PyPI/all.zip instead of fetching each" in line for line in lines)
    assert len(world.pulls["acme/app"]) == 1  # both advisories, one upgrade of pyyaml
    assert (
        "PYSEC-2020-96" in world.pulls["acme/app"][0]["body"]
        or "GHSA-6757-jp84-gxfx" in world.pulls["acme/app"][0]["body"]
    )


def test_an_npm_upgrade_no_test_runs_is_not_proposed_but_notified(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch proposes only what `mamori fix` verifies: an npm project without tests gets its
    upgrade written (lockfile and manifest) but unverified, so no merge request; people are told why."""
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    world.publish("npm", load_advisory("GHSA-p6mc-m468-83gw"))  # fixed in 4.17.19: not this lock
    bare = make_npm_project(tmp_path, "web", "4.17.20")
    world.repos["acme/web"] = bare
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "web"\ngit = "{bare.as_uri()}"\ngithub = "acme/web"\n'
        'auto_fix = ["act", "attend", "track*", "track"]\n',
    )
    lines: list[str] = []
    _cycle(fleet, lines)
    assert world.pulls == {}
    world.publish("npm", _fresh("GHSA-35jh-r3h4-6jhm"))
    _cycle(fleet, lines)
    assert world.pulls == {}, world.pulls
    assert not [b for b in git("branch", "--list", "mamori/*", cwd=bare).split() if b != "*"]
    unfixed = [h["body"] for h in world.hooks if h["body"]["event"] == "not-fixed"]
    assert unfixed and "no tests found" in json.dumps(unfixed), world.hooks
