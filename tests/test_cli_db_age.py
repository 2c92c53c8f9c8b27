"""``mamori db status`` and ``db import`` through the CLI: each source's own age, honest counts.

The database is built here from OSV records, a KEV catalogue and an EPSS file written by the
test with dates of its own, so each source can be fresh or stale independently.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers import mamori, write_osv


def _record(adv_id: str, eco: str, name: str, modified: datetime, fixed: str = "2.0.0") -> dict[str, Any]:
    return {
        "id": adv_id,
        "modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": f"{name} hole",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


def _epss(path: Path, day: datetime) -> Path:
    path.write_text(
        f"#model_version:v2025.03.14,score_date:{day.strftime('%Y-%m-%d')}T00:00:00+0000\n"
        "cve,epss,percentile\nCVE-2019-10906,0.01,0.5\n",
        encoding="utf-8",
    )
    return path


def test_db_status_gives_each_sources_own_age_and_warns_only_the_stale_ones(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    folder = tmp_path / "osv"
    write_osv(folder, _record("GHSA-fresh-npm-0001", "npm", "lodash", now - timedelta(days=1)))
    write_osv(folder, _record("GHSA-stale-pypi-0001", "PyPI", "jinja2", now - timedelta(days=40)))
    epss = _epss(tmp_path / "epss.csv", now - timedelta(days=12))
    assert mamori("db", "import", folder, epss).code == 0

    status = mamori("db", "status")
    assert status.code == 0, status.err
    lines = {line.split(":")[0].strip(): line for line in status.out.splitlines() if line.startswith("  ")}
    assert "40 days old: STALE" in lines["osv/PyPI"]
    assert "1 day old: current" in lines["osv/npm"]
    assert "12 days old: STALE" in lines["epss"]
    # the newest record of the whole database is a day old, yet PyPI's data is 40 days old
    assert "PyPI advisory data is 40 days old" in status.err
    assert "npm advisory data" not in status.err
    assert "EPSS scores are 12 days old" in status.err

    doc = mamori("db", "status", "--format", "json").json()
    ages = {a["source"]: a for a in doc["ages"]}
    assert ages["osv/PyPI"]["stale"] is True and ages["osv/PyPI"]["age_days"] == 40
    assert ages["osv/npm"]["stale"] is False and ages["osv/npm"]["records"] == 1
    assert ages["epss"]["stale"] is True and ages["epss"]["data_date"].startswith(
        (now - timedelta(days=12)).date().isoformat()
    )
    assert ages["osv/PyPI"]["loaded"] and ages["osv/PyPI"]["location"] == str(folder)
    assert len(doc["warnings"]) == 2
    assert doc["ecosystems"] == {"PyPI": 1, "npm": 1}  # the contract's shape is unchanged

    # a scan of a PyPI project is told its data is stale, though the npm data is fresh
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("jinja2==1.0\n", encoding="utf-8")
    scan = mamori("scan", app, "--offline", "--no-code", "-f", "json")
    report = scan.json()
    assert any("PyPI advisory data is 40 days old" in w for w in report["database"]["warnings"])
    assert report["database"]["advisories_modified"].startswith((now - timedelta(days=40)).date().isoformat())
    assert "PyPI advisory data is 40 days old" in scan.err


def _zip(path: Path, members: dict[str, dict[str, Any]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, record in members.items():
            zf.writestr(name, json.dumps(record))
    return path


def test_db_import_counts_distinct_advisories_and_reports_repeats_apart(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old, new = now - timedelta(days=3), now - timedelta(days=1)
    a = _record("PYSEC-2020-1", "PyPI", "jinja2", old)
    b = _record("PYSEC-2020-2", "PyPI", "flask", old)
    folder = tmp_path / "osv"
    write_osv(folder / "jinja2", a)
    write_osv(folder / "also", a)  # the same advisory in a second file
    write_osv(folder / "flask", b)
    archive = _zip(tmp_path / "all.zip", {"a.json": {**a, "modified": new.strftime("%Y-%m-%dT%H:%M:%SZ")}})

    run = mamori("db", "import", folder, archive, "--format", "json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["files"] == 4
    assert doc["records"] == 4
    assert doc["advisories"] == 2 and doc["new"] == 2  # two distinct ids stored, not four
    assert doc["duplicates"] == 2 and doc["duplicate_ids"] == 1
    status = mamori("db", "status", "-f", "json").json()
    assert status["advisories"] == doc["advisories"]

    text = mamori("db", "import", folder)
    # everything is already stored: nothing new, and jinja2's copy in the zip is later
    assert text.out.startswith("Imported 1 advisory from 3 files (0 new, 0 updated, 1 already stored")
    assert "1 kept (the database held a later version)" in text.out
    assert "1 record repeated an advisory already read" in text.out
    again = mamori("db", "import", folder, folder, "-f", "json").json()
    assert again["files"] == 3  # a folder named twice is read once
