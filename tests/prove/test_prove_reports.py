"""`mamori scan --prove` through the CLI: the proof in SARIF (properties and a codeFlow ending at
the observed call) and on the dashboard (the finding's page and the open-findings list)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mamori import sandbox

APPS = Path(__file__).parent / "apps"
UNSAFE = sandbox.unavailable_reason() is not None


def test_scan_prove_sarif_and_dashboard(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    from fastapi.testclient import TestClient

    from mamori.results import ResultsStore
    from mamori.share._hub import Hub
    from mamori.share._server import create_app

    root = tmp_path / "flask_app"
    shutil.copytree(APPS / "flask_app", root)
    home = tmp_path / "home"
    out = tmp_path / "report.sarif"
    argv = [sys.executable, "-m", "mamori", "scan", str(root), "--no-deps", "--offline", "--prove"]
    argv += ["--python", sys.executable, "-f", "sarif", "-o", str(out)]
    env = {**os.environ, "MAMORI_HOME": str(home)}
    env.pop("MAMORI_NO_RECORD", None)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if UNSAFE:
        pytest.skip(f"scan --prove needs a kernel sandbox ({sandbox.unavailable_detail()})")
    assert proc.returncode == 1, proc.stderr
    results = json.loads(out.read_text())["runs"][0]["results"]
    line = next(
        i + 1
        for i, t in enumerate((root / "app.py").read_text().splitlines())
        if "WHERE name = '{name}'" in t
    )
    sqli = next(
        r
        for r in results
        if r["ruleId"] == "PY-SQLI" and r["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    )
    props = sqli["properties"]
    assert props["proven"] is True and props["proof"]["status"] == "proven", props
    assert props["proof"]["request"]["curl"].startswith("curl "), props
    observed = props["proof"]["observed"]
    flow = next(f for f in sqli["codeFlows"] if f.get("message", {}).get("text") == "proof of vulnerability")
    last = flow["threadFlows"][0]["locations"][-1]["location"]
    assert last["physicalLocation"]["artifactLocation"]["uri"].endswith(observed["path"])
    assert last["physicalLocation"]["region"]["startLine"] == observed["line"]
    assert observed["sink"] in last["message"]["text"]
    # a finding that is not proven says so, with no proof flow
    unproven = [r for r in results if r["properties"].get("proof", {}).get("status") == "not_proven"]
    assert unproven and all(r["properties"]["proven"] is False for r in unproven)
    assert all(
        f.get("message", {}).get("text") != "proof of vulnerability"
        for r in unproven
        for f in r.get("codeFlows", [])
    )

    # the recorded scan on the dashboard: the list marks the proven findings, the page shows the proof
    store = ResultsStore(home / "results.sqlite")
    stored = store.last_scan_findings(root)
    assert stored is not None
    proven = [f for f in stored if (f.get("proof") or {}).get("status") == "proven"]
    assert proven, [f.get("proof") for f in stored]
    hub = Hub.open(f"sqlite:///{home / 'hub.sqlite'}")
    try:
        token = hub.add_org("ops", hub.sectors()[0], "admin")
        client = TestClient(create_app(hub, results=home / "results.sqlite"), follow_redirects=False)
        headers = {"Authorization": f"Bearer {token}"}
        listing = client.get("/findings", headers=headers)
        assert listing.status_code == 200
        assert listing.text.count('data-proof="proven"') == len(proven), listing.text[-3000:]
        page = client.get(f"/findings/{proven[0]['id']}", headers=headers)
        assert page.status_code == 200
        assert 'data-proof="proven"' in page.text
        assert "curl " in page.text and proven[0]["proof"]["observed"]["sink"] in page.text
        other = next(f for f in stored if (f.get("proof") or {}).get("status") == "not_proven")
        page = client.get(f"/findings/{other['id']}", headers=headers)
        assert 'data-proof="not_proven"' in page.text
    finally:
        hub.close()
