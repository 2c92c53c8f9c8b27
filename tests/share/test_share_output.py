"""``mamori share push`` and ``share pull`` through the real CLI against a real hub: readable text
by default, one JSON object with ``--format json``, never a Python repr or a raw dict."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import mamori
from tests.share.conftest import FIXTURES, LiveHub

ALERTS = FIXTURES / "alerts_log4shell_web.jsonl"


def _no_repr(text: str) -> None:
    assert "{'" not in text and "Status(" not in text and "Summary(" not in text


def test_push_and_pull_print_text_or_json(sqlite_hub: LiveHub, tmp_path: Path) -> None:
    push = ["share", "push", ALERTS, "--server", sqlite_hub.url, "--collection", "finance", "--tlp", "green"]
    env = {"MAMORI_TOKEN": sqlite_hub.tokens["Producer Bank"]}
    text = mamori(*push, env=env)
    assert text.code == 0, text.err
    assert text.out.startswith("pushed ") and "to finance as TLP:GREEN" in text.out
    _no_repr(text.out)
    as_json = mamori(*push, "--format", "json", env=env)
    assert as_json.code == 0, as_json.err
    doc = as_json.json()
    assert doc["tlp"] == "green" and doc["total"] == doc["success"] > 0 and doc["failures"] == []

    reader = {"MAMORI_TOKEN": sqlite_hub.tokens["Other Bank"], "MAMORI_HOME": str(tmp_path / "reader")}
    pull = ["share", "pull", "--server", sqlite_hub.url, "--collection", "finance"]
    first = mamori(*pull, env=reader)
    assert first.code == 0, first.err
    _no_repr(first.out)
    assert first.out.startswith("received ") and "new" in first.out and "detection rule" in first.out
    again = mamori(*pull, "-f", "json", env=reader)
    assert again.code == 0, again.err
    summary = json.loads(again.out)
    assert set(summary) == {"received", "new", "detection_rules", "refused"}
    assert summary["received"] == 0 and summary["new"] == 0  # resumes where the first pull stopped
    assert summary["detection_rules"] >= 1  # the log4shell alerts' attacker indicators
