"""``mamori scan`` end to end through the real CLI, on real files and a real loopback HTTP server."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import closed_port_url, mamori, osv_zip, serve_folder, write_osv

GHSA_JINJA: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "GHSA-462w-v97r-4m45",
    "modified": "2024-09-01T00:00:00Z",
    "published": "2019-04-10T14:30:13Z",
    "aliases": ["CVE-2019-10906"],
    "summary": "Jinja2 sandbox escape via string formatting",
    "details": "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jinja2", "purl": "pkg:pypi/jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
        }
    ],
    "database_specific": {"cwe_ids": ["CWE-693"], "severity": "HIGH"},
}

LODASH: dict[str, Any] = {
    "id": "GHSA-p6mc-m468-83gw",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2020-8203"],
    "summary": "Prototype Pollution in lodash",
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "lodash"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "3.7.0"}, {"fixed": "4.17.19"}]}],
        }
    ],
}

WITHDRAWN: dict[str, Any] = {
    "id": "GHSA-withdrawn-0001",
    "modified": "2024-01-01T00:00:00Z",
    "withdrawn": "2024-01-02T00:00:00Z",
    "summary": "withdrawn: must never be reported",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}


@pytest.fixture
def advisories(tmp_path: Path, shared_data: Path) -> Path:
    """A folder of OSV records: the real PYSEC jinja2 record plus GHSA records that alias it."""
    folder = tmp_path / "osv"
    folder.mkdir()
    shutil.copy(shared_data / "pypa-advisory-db/vulns/jinja2/PYSEC-2019-217.yaml", folder)
    for rec in (GHSA_JINJA, LODASH, WITHDRAWN):
        write_osv(folder, rec)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text(
        "# web app\nflask==2.3.3\n\njinja2==2.10  # pinned long ago\nrequests>=2.0\n", encoding="utf-8"
    )
    return root


def _db(advisories: Path) -> None:
    run = mamori("db", "import", advisories)
    assert run.code == 0, run.err


def test_scan_finds_pinned_vulnerable_dependency_with_file_and_line(project: Path, advisories: Path) -> None:
    _db(advisories)
    run = mamori("scan", project, "--offline", "--no-code", "--format", "json")
    assert run.code == 1, run.err  # findings at or above the default --fail-on any
    report = run.json()
    assert report["schema"] == "mamori.report/1"
    (finding,) = report["findings"]  # PYSEC and GHSA alias each other: one finding; withdrawn is out
    assert finding["kind"] == "dependency"
    assert finding["package"]["name"] == "jinja2"
    assert finding["package"]["version"] == "2.10"
    assert finding["package"]["purl"] == "pkg:pypi/jinja2@2.10"
    assert finding["location"] == {"path": "requirements.txt", "line": 4}
    assert finding["advisory"]["id"] == "GHSA-462w-v97r-4m45"
    assert set(finding["advisory"]["aliases"]) == {"CVE-2019-10906", "PYSEC-2019-217"}
    assert finding["advisory"]["fixed"] == ["2.10.1"]
    assert finding["severity"] == "high"
    assert finding["status"] == "open"


def test_fail_on_severity_threshold(project: Path, advisories: Path) -> None:
    _db(advisories)
    assert mamori("scan", project, "--offline", "--no-code", "--fail-on", "critical", "-f", "json").code == 0
    assert mamori("scan", project, "--offline", "--no-code", "--fail-on", "high", "-f", "json").code == 1
    bad = mamori("scan", project, "--offline", "--fail-on", "severe")
    assert bad.code == 2
    assert "--fail-on" in bad.err


def test_broken_lockfile_is_reported_and_the_rest_scanned(project: Path, advisories: Path) -> None:
    _db(advisories)
    (project / "web").mkdir()
    (project / "web" / "package-lock.json").write_text('{\n  "lockfileVersion": 3,\n  "packages": {,\n}\n')
    run = mamori("scan", project, "--offline", "--no-code", "-f", "json")
    assert run.code == 1
    report = run.json()
    assert [f["package"]["name"] for f in report["findings"]] == ["jinja2"]
    (error,) = report["errors"]
    assert error["path"] == "web/package-lock.json"
    assert error["line"] == 3
    assert "web/package-lock.json:3" in run.err
    strict = mamori("scan", project, "--offline", "--no-code", "-f", "json", "--strict")
    assert strict.code == 2


def test_single_lockfile_target_paths_relative_to_its_folder(tmp_path: Path, advisories: Path) -> None:
    _db(advisories)
    lock = tmp_path / "front" / "package-lock.json"
    lock.parent.mkdir()
    lock.write_text(
        json.dumps(
            {
                "name": "front",
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "front", "dependencies": {"lodash": "^4.17.15"}},
                    "node_modules/lodash": {"version": "4.17.15"},
                },
            },
            indent=2,
        )
    )
    report = mamori("scan", lock, "--offline", "-f", "json").json()
    (finding,) = report["findings"]
    assert finding["location"]["path"] == "package-lock.json"
    assert finding["advisory"]["id"] == "GHSA-p6mc-m468-83gw"
    assert finding["package"]["purl"] == "pkg:npm/lodash@4.17.15"


def test_no_database_offline_exits_3_and_says_how(project: Path) -> None:
    run = mamori("scan", project, "--offline", "--no-code")
    assert run.code == 3
    assert "db import" in run.err and "db update" in run.err


def test_no_database_and_no_network_exits_3(project: Path) -> None:
    dead = closed_port_url()
    env = {
        "MAMORI_OSV_URL": dead + "/{ecosystem}/all.zip",
        "MAMORI_PYPI_URL": dead + "/pypi",
        "MAMORI_NPM_URL": dead + "/npm",
        "MAMORI_KEV_URL": dead + "/kev.json",
        "MAMORI_EPSS_URL": dead + "/epss.csv.gz",
    }
    run = mamori("scan", project, "--no-code", env=env)
    assert run.code == 3
    assert "db import" in run.err


def _mirror(tmp_path: Path, shared_data: Path) -> Path:
    """A folder laid out like osv.dev's bucket plus KEV and EPSS files."""
    root = tmp_path / "mirror"
    osv_zip(root / "PyPI" / "all.zip", [GHSA_JINJA, WITHDRAWN])
    osv_zip(root / "npm" / "all.zip", [LODASH])
    shutil.copy(shared_data / "cisa-kev/known_exploited_vulnerabilities.json", root / "kev.json")
    (root / "epss.csv").write_text(
        "#model_version:v2025.03.14,score_date:2026-11-26T12:55:00Z\ncve,epss,percentile\n"
        "CVE-2019-10906,0.01234,0.78000\nCVE-2021-44228,0.94400,0.99990\n"
    )
    return root


def test_scan_downloads_a_missing_database_first(project: Path, tmp_path: Path, shared_data: Path) -> None:
    mirror = _mirror(tmp_path, shared_data)
    with serve_folder(mirror) as url:
        env = {
            "MAMORI_OSV_URL": url + "/{ecosystem}/all.zip",
            "MAMORI_PYPI_URL": url + "/pypi",  # the range requests>=2.0: the mirror has no index
            "MAMORI_NPM_URL": url + "/npm",
            "MAMORI_KEV_URL": url + "/kev.json",
            "MAMORI_EPSS_URL": url + "/epss.csv",
        }
        run = mamori("scan", project, "--no-code", "-f", "json", env=env)
    assert run.code == 1, run.err
    (finding,) = run.json()["findings"]
    assert finding["advisory"]["id"] == "GHSA-462w-v97r-4m45"
    status = mamori("db", "status")
    assert status.code == 0
    assert "PyPI" in status.out


def test_day_old_database_and_no_network_warns_and_uses_local(
    project: Path, advisories: Path, mamori_home: Path
) -> None:
    _db(advisories)
    db = mamori_home / "advisories.sqlite"
    # Age the database's own record of its last update by rewriting the file time is not enough:
    # the store records update times inside; simulate an old database by moving the clock of the
    # stored metadata back two days.
    import sqlite3

    con = sqlite3.connect(db)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "meta" in tables
    cols = [r[1] for r in con.execute("PRAGMA table_info(meta)")]
    for col in cols:
        if "updated" in col or col == "value":
            con.execute(
                f"UPDATE meta SET {col} = ? WHERE {col} LIKE '20%'",
                (time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3 * 86400)),),
            )
    con.commit()
    con.close()
    dead = closed_port_url()
    env = {
        "MAMORI_OSV_URL": dead + "/{ecosystem}/all.zip",
        "MAMORI_PYPI_URL": dead + "/pypi",
        "MAMORI_NPM_URL": dead + "/npm",
        "MAMORI_KEV_URL": dead + "/kev.json",
        "MAMORI_EPSS_URL": dead + "/e.csv",
    }
    run = mamori("scan", project, "--no-code", "-f", "json", env=env)
    assert run.code == 1, run.err
    assert "warning" in run.err.lower()
    assert len(run.json()["findings"]) == 1


def test_baseline_hides_known_findings(project: Path, advisories: Path, tmp_path: Path) -> None:
    _db(advisories)
    first = tmp_path / "first.json"
    assert mamori("scan", project, "--offline", "--no-code", "-f", "json", "-o", first).code == 1
    again = mamori("scan", project, "--offline", "--no-code", "-f", "json", "--baseline", first)
    assert again.code == 0
    assert again.json()["findings"] == []


def test_sarif_points_at_the_manifest_line(project: Path, advisories: Path) -> None:
    _db(advisories)
    sarif = mamori("scan", project, "--offline", "--no-code", "-f", "sarif").json()
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "requirements.txt"
    assert loc["region"]["startLine"] == 4
    assert result["ruleId"] == "GHSA-462w-v97r-4m45"


def test_output_file_and_ids_stable_across_line_moves(
    project: Path, advisories: Path, tmp_path: Path
) -> None:
    _db(advisories)
    out = tmp_path / "r.json"
    assert mamori("scan", project, "--offline", "--no-code", "-f", "json", "-o", out).code == 1
    first = json.loads(out.read_text())["findings"][0]
    req = project / "requirements.txt"
    req.write_text("# moved down\n\n\n" + req.read_text())
    second = mamori("scan", project, "--offline", "--no-code", "-f", "json").json()["findings"][0]
    assert second["location"]["line"] == first["location"]["line"] + 3
    assert second["id"] == first["id"]


def test_results_are_recorded_for_later_commands(project: Path, advisories: Path, mamori_home: Path) -> None:
    from mamori.results import ResultsStore

    _db(advisories)
    report = mamori("scan", project, "--offline", "--no-code", "-f", "json").json()
    os.environ["MAMORI_HOME"] = str(mamori_home)
    stored = ResultsStore(mamori_home / "results.sqlite").last_scan_findings(project)
    assert stored is not None
    assert [f["id"] for f in stored] == [f["id"] for f in report["findings"]]


def test_table_output_shows_upgrade_target(project: Path, advisories: Path) -> None:
    _db(advisories)
    run = mamori("scan", project, "--offline", "--no-code")
    assert run.code == 1
    assert "jinja2" in run.out
    assert "2.10.1" in run.out


def test_missing_target_is_usage_error(tmp_path: Path) -> None:
    run = mamori("scan", tmp_path / "nope", "--offline")
    assert run.code == 2
    assert "nope" in run.err


@pytest.mark.parametrize(
    "cmd",
    [[], ["scan"], ["db"], ["db", "update"], ["db", "import"], ["db", "status"], ["sbom"], ["demo"]],
)
def test_every_command_has_help(cmd: list[str]) -> None:
    run = mamori(*cmd, "--help")
    assert run.code == 0
    assert "Usage" in run.out


def test_report_names_the_database_sources(project: Path, advisories: Path, shared_data: Path) -> None:
    _db(advisories)
    assert mamori("db", "import", shared_data / "cisa-kev/known_exploited_vulnerabilities.json").code == 0
    database = mamori("scan", project, "--offline", "--no-code", "-f", "json").json()["database"]
    assert database["updated"]
    assert "kev" in database["sources"]
    assert any(s.startswith("osv") for s in database["sources"])
