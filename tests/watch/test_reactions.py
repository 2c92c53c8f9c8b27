"""Reactions one by one: new commits re-index only what changed; notify-only never pushes; EPSS
re-ranks; a forge that refuses the token leaves the job failed without echoing it; a branch
someone else owns is never overwritten."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.watch.conftest import Setup, write_fleet
from tests.watch.world import TOKEN, World, git, load_advisory, make_project, now_iso

from mamori.watch import Watcher, collect_status, load_fleet
from mamori.watch._git import GitError, push_branch
from mamori.watch.service import state_path
from mamori.watch.state import WatchState


def _fresh(name: str) -> dict[str, Any]:
    stamp = now_iso()
    return {**load_advisory(name), "published": stamp, "modified": stamp}


def _cycle(fleet: Path, lines: list[str] | None = None) -> None:
    watcher = Watcher(load_fleet(fleet), say=(lines.append if lines is not None else lambda _m: None))
    try:
        watcher.cycle()
    finally:
        watcher.close()


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}


def _state() -> WatchState:
    return WatchState(state_path())


def test_a_new_commit_reindexes_only_the_files_it_changed(setup: Setup) -> None:
    lines: list[str] = []
    _cycle(setup.fleet, lines)
    (setup.work / "web").mkdir()
    (setup.work / "web" / "requirements.txt").write_text("jinja2==2.10\n")
    git("add", ".", cwd=setup.work)
    git("commit", "-qm", "web part", cwd=setup.work)
    git("push", "-q", str(setup.bare), "main", cwd=setup.work)
    lines.clear()
    _cycle(setup.fleet, lines)
    assert any("re-indexed 1 dependency file (1 component)" in line for line in lines), lines
    state = _state()
    try:
        names = sorted(c["name"] for c in state.components_of("app"))
        assert names == ["jinja2", "pyyaml"]
        paths = sorted(c["location"]["path"] for c in state.components_of("app"))
        assert paths == ["requirements.txt", "web/requirements.txt"]
    finally:
        state.close()
    # a commit touching no dependency file changes nothing in the index
    (setup.work / "README.md").write_text("hello\n")
    git("add", ".", cwd=setup.work)
    git("commit", "-qm", "docs", cwd=setup.work)
    git("push", "-q", str(setup.bare), "main", cwd=setup.work)
    lines.clear()
    _cycle(setup.fleet, lines)
    assert any("none a dependency file; index kept" in line for line in lines), lines
    # a commit removing a dependency file drops its components
    git("rm", "-q", "web/requirements.txt", cwd=setup.work)
    git("commit", "-qm", "drop web", cwd=setup.work)
    git("push", "-q", str(setup.bare), "main", cwd=setup.work)
    _cycle(setup.fleet)
    state = _state()
    try:
        assert [c["name"] for c in state.components_of("app")] == ["pyyaml"]
    finally:
        state.close()


def test_notify_only_notifies_and_never_pushes(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    _work, bare = make_project(tmp_path, "pumps", "pyyaml==5.3\n")
    world.repos["acme/pumps"] = bare
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "pumps"\ngit = "{bare.as_uri()}"\ngithub = "acme/pumps"\npolicy = "notify-only"\n'
        'auto_fix = ["act", "attend", "track*", "track"]\n',
    )
    _cycle(fleet)
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(fleet)
    assert world.pulls == {}
    assert git("branch", "--list", "mamori/*", cwd=bare).strip() == ""
    notices = [h["body"] for h in world.hooks if h["body"]["event"] == "finding"]
    assert len(notices) == 1 and notices[0]["why"] == "policy notify-only"
    assert notices[0]["finding"]["advisory"] == "GHSA-8q59-q68h-6hv4"
    _cycle(fleet)
    assert len([h for h in world.hooks if h["body"]["event"] == "finding"]) == 1  # once per decision


def test_decisions_outside_auto_fix_are_not_fixed(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    _work, bare = make_project(tmp_path, "meters", "pyyaml==5.3\n")
    world.repos["acme/meters"] = bare
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "meters"\ngit = "{bare.as_uri()}"\ngithub = "acme/meters"\nauto_fix = []\n',
    )
    _cycle(fleet)
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(fleet)
    assert world.pulls == {} and not [h for h in world.hooks if h["body"]["event"] in ("proposed", "finding")]
    state = _state()
    try:
        assert [f["advisory"] for f in state.findings_of("meters")] == ["GHSA-8q59-q68h-6hv4"]
    finally:
        state.close()


def test_epss_change_reranks_the_projects_it_touches(setup: Setup) -> None:
    world = setup.world
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet)
    lines: list[str] = []
    world.epss["CVE-2020-14343"] = (0.97, 0.999)
    world.epss["CVE-1999-0001"] = (0.5, 0.9)
    _cycle(setup.fleet, lines)
    assert any("1 CVE of the fleet moved, 1 project re-ranked" in line for line in lines), lines
    assert any("app: re-prioritised (epss)" in line for line in lines), lines
    state = _state()
    try:
        (finding,) = state.findings_of("app")
        assert any("EPSS" in r for r in finding["reasons"]), finding["reasons"]
    finally:
        state.close()
    lines.clear()
    _cycle(setup.fleet, lines)  # unchanged scores: a 304, nothing re-ranked
    assert not any("re-prioritised (epss)" in line for line in lines)


def test_a_refused_token_fails_the_job_and_is_never_echoed(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", "wrong-secret-value")
    lines: list[str] = []
    setup.world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet, lines)
    assert setup.world.pulls == {}
    assert any("HTTP 401 Bad credentials" in line and "will retry" in line for line in lines), lines
    data = collect_status(load_fleet(setup.fleet), _state())
    text = json.dumps(data) + "\n".join(lines)
    assert "wrong-secret-value" not in text
    state_bytes = state_path().read_bytes() + Path(str(state_path()) + "-wal").read_bytes()
    assert b"wrong-secret-value" not in state_bytes
    # the branch was pushed; with the right token the retry opens the request (no second push)
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    state = _state()
    try:
        state._conn.execute("UPDATE jobs SET not_before = 0")
    finally:
        state.close()
    _cycle(setup.fleet)
    assert len(setup.world.pulls["acme/app"]) == 1


def test_someone_elses_branch_is_never_overwritten(setup: Setup) -> None:
    _cycle(setup.fleet)
    from mamori.watch.reactions.fix import branch_name

    branch = branch_name("pyyaml", "5.4", "PyPI/pyyaml@5.3 (requirements.txt)")
    git("checkout", "-q", "-b", branch, cwd=setup.work)
    (setup.work / "NOTES").write_text("mine\n")
    git("add", ".", cwd=setup.work)
    git("commit", "-qm", "a person's work", cwd=setup.work)
    git("push", "-q", str(setup.bare), branch, cwd=setup.work)
    theirs = git("rev-parse", branch, cwd=setup.bare).strip()
    lines: list[str] = []
    setup.world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet, lines)
    assert git("rev-parse", branch, cwd=setup.bare).strip() == theirs
    assert any("with other commits; not overwritten" in line for line in lines), lines
    assert setup.world.pulls == {}


def test_only_mamori_branches_are_pushed(tmp_path: Path) -> None:
    for branch in ("main", "release"):
        with pytest.raises(GitError, match="refusing to push"):
            push_branch(tmp_path, branch, {"main"})
    with pytest.raises(GitError, match="refusing to push"):
        push_branch(tmp_path, "mamori/x", {"mamori/x"})


def test_status_as_json_through_the_cli(setup: Setup) -> None:
    import subprocess

    setup.world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet)
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "watch", "status", "--format", "json", "--config", str(setup.fleet)],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    data = json.loads(proc.stdout)
    (project,) = data["projects"]
    assert project["name"] == "app" and project["components"] == 1 and sum(project["findings"].values()) == 1
    assert data["jobs"] == {"done": data["jobs"]["done"]}
    assert data["proposals"][0]["state"] == "proposed"
    assert data["latency"]["published_to_proposed_p50"] > 0
    text = subprocess.run(
        [sys.executable, "-m", "mamori", "watch", "status", "--config", str(setup.fleet)],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    ).stdout
    assert "advisory published → verified fix proposed: p50" in text and "proposals (1):" in text


def test_a_local_git_folder_gets_a_branch_and_its_work_tree_is_untouched(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, _bare = make_project(tmp_path, "local", "pyyaml==5.3\n")
    (work / "scratch.txt").write_text("uncommitted work\n")  # must survive: never cleaned
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "local"\npath = "{work}"\nauto_fix = ["act", "attend", "track*", "track"]\n',
    )
    _cycle(fleet)
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    lines: list[str] = []
    _cycle(fleet, lines)
    branches = git("branch", "--list", "mamori/*", cwd=work).split()
    assert len(branches) == 1 and branches[0].startswith("mamori/fix-pyyaml-5.4-"), lines
    assert git("show", f"{branches[0]}:requirements.txt", cwd=work).strip() == "pyyaml==5.4"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).strip() == "main"
    assert (work / "requirements.txt").read_text() == "pyyaml==5.3\n"
    assert (work / "scratch.txt").read_text() == "uncommitted work\n"
    assert any("no forge project" in line for line in lines)  # pushed; no request without github =


def test_a_plain_folder_is_read_in_place_and_only_notified(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "requirements.txt").write_text("pyyaml==5.3\n")
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        f'[[project]]\nname = "plain"\npath = "{folder}"\nauto_fix = ["act", "attend", "track*", "track"]\n',
    )
    _cycle(fleet)
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(fleet)
    notices = [h["body"] for h in world.hooks if h["body"]["event"] == "finding"]
    assert len(notices) == 1 and notices[0]["why"] == "no git remote to propose a branch on"
    # a change of its dependency files is noticed without git
    (folder / "requirements.txt").write_text("pyyaml==5.4\n")
    _cycle(fleet)
    state = _state()
    try:
        assert state.findings_of("plain") == []
        assert [c["version"] for c in state.components_of("plain")] == ["5.4"]
    finally:
        state.close()


def test_a_merge_on_the_forge_is_the_last_step_of_the_timeline(setup: Setup) -> None:
    setup.world.publish("PyPI", _fresh("PYSEC-2021-142"))
    _cycle(setup.fleet)
    (pull,) = setup.world.pulls["acme/app"]
    lines: list[str] = []
    _cycle(setup.fleet, lines)
    assert not any("merged" in line for line in lines)
    with setup.world.lock:
        pull["state"], pull["merged_at"] = "closed", now_iso()
    _cycle(setup.fleet, lines)
    assert any("request #1 merged" in line for line in lines), lines
    data = collect_status(load_fleet(setup.fleet), _state())
    assert data["proposals"][0]["state"] == "merged"
    (fix,) = data["latency"]["fixes"]
    assert fix["merged"] and fix["proposed"] <= fix["merged"]


def test_two_workers_propose_for_two_projects(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_FORGE_TOKEN", TOKEN)
    entries = []
    for name in ("north", "south"):
        _work, bare = make_project(tmp_path, name, "pyyaml==5.3\n")
        world.repos[f"acme/{name}"] = bare
        entries.append(
            f'[[project]]\nname = "{name}"\ngit = "{bare.as_uri()}"\ngithub = "acme/{name}"\n'
            'auto_fix = ["act", "attend", "track*", "track"]\n'
        )
    fleet = write_fleet(tmp_path / "watch.toml", world, "\n".join(entries))
    _cycle(fleet)
    world.publish("PyPI", _fresh("PYSEC-2021-142"))
    watcher = Watcher(load_fleet(fleet))
    watcher.workers = 2
    try:
        watcher.cycle()
    finally:
        watcher.close()
    assert sorted(world.pulls) == ["acme/north", "acme/south"]
    assert all(len(p) == 1 for p in world.pulls.values())
    state = _state()
    try:
        assert set(state.job_counts()) == {"done"}
    finally:
        state.close()


def test_secrets_in_urls_are_never_shown(world: World, tmp_path: Path) -> None:
    from mamori.watch._redact import redact

    assert redact("https://bot:ghp_secret@github.com/acme/a.git") == "https://***@github.com/acme/a.git"
    assert (
        redact("https://hooks.example/services/T0/B0/XYZsecret", keep_path=False) == "https://hooks.example/…"
    )
    fleet = write_fleet(
        tmp_path / "watch.toml",
        world,
        '[[project]]\nname = "locked"\ngit = "http://bot:s3cret-token@127.0.0.1:9/acme/locked.git"\n',
    )
    fleet.write_text(fleet.read_text().replace(f"{world.url}/hook", f"{world.url}/missing/HOOKsecret"))
    lines: list[str] = []
    _cycle(fleet, lines)
    state = _state()
    try:
        state.enqueue("notify:test", "notify", {"event": "finding", "project": "locked", "finding": {}})
    finally:
        state.close()
    _cycle(fleet, lines)
    data = json.dumps(collect_status(load_fleet(fleet), _state()))
    shown = "\n".join(lines) + data
    assert "locked: cannot read the watched branch" in shown
    assert "webhook failed: http://127.0.0.1" in shown
    assert "s3cret-token" not in shown and "HOOKsecret" not in shown
