"""Online scans of unpinned ranges and of ecosystems the database lacks, through the real CLI.

A loopback HTTP server stands in for the package indexes (PyPI's JSON API layout,
``/pypi/<name>/json``, and the npm registry's packument layout, ``/<name>``) and for osv.dev's
bucket; the real client (``mamori.registry.PackageIndex``, httpx) talks to it through
``MAMORI_PYPI_URL``, ``MAMORI_NPM_URL`` and ``MAMORI_OSV_URL``. The release lists follow the
packages' real histories (flask's cut at 2.3.2, as a lagging mirror would have it); one
release is marked yanked and one is a pre-release so that the choice of the newest allowed
release is tested, not assumed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from tests.helpers import closed_port_url, mamori, osv_zip, serve_folder

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "src/mamori/output/report.schema.json").read_text(encoding="utf-8")
)

LODASH_TEMPLATE: dict[str, Any] = {
    "id": "GHSA-35jh-r3h4-6jhm",
    "modified": "2024-02-01T00:00:00Z",
    "published": "2021-05-06T16:05:51Z",
    "aliases": ["CVE-2021-23337"],
    "summary": "Command Injection in lodash",
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "lodash"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}],
        }
    ],
}


def _pypi(root: Path, name: str, releases: dict[str, bool]) -> None:
    """``/pypi/<name>/json`` as PyPI lays it out: ``releases`` maps versions to their files."""
    files = {
        v: [
            {
                "filename": f"{name}-{v}.tar.gz",
                "packagetype": "sdist",
                "digests": {"sha256": f"{i:064x}"},
                "yanked": yanked,
                "yanked_reason": "broken metadata" if yanked else None,
            }
        ]
        for i, (v, yanked) in enumerate(releases.items())
    }
    newest = [v for v, y in releases.items() if not y][-1]
    doc = {"info": {"name": name, "version": newest}, "releases": files, "urls": files[newest]}
    (root / "pypi" / name).mkdir(parents=True, exist_ok=True)
    (root / "pypi" / name / "json").write_text(json.dumps(doc), encoding="utf-8")


def _npm(root: Path, name: str, versions: list[str]) -> None:
    """``/<name>`` as the npm registry lays a packument out."""
    doc = {
        "name": name,
        "dist-tags": {"latest": [v for v in versions if "-" not in v][-1]},
        "versions": {
            v: {
                "name": name,
                "version": v,
                "dist": {
                    "tarball": f"https://registry.npmjs.org/{name}/-/{name}-{v}.tgz",
                    "integrity": f"sha512-{v}",
                },
            }
            for v in versions
        },
    }
    (root / "npm").mkdir(parents=True, exist_ok=True)
    (root / "npm" / name).write_text(json.dumps(doc), encoding="utf-8")


@pytest.fixture
def indexes(tmp_path: Path, shared_data: Path) -> Iterator[dict[str, str]]:
    """The loopback indexes and osv.dev mirror, as the environment that points mamori at them."""
    root = tmp_path / "mirror"
    _pypi(
        root,
        "jinja2",
        {"2.9.6": False, "2.10": False, "2.10.1": False, "2.11.3": False, "3.1.4": False, "3.2.0rc1": False},
    )
    # a mirror that stops at 2.3.2 (marked yanked here): the newest flask it offers is 2.3.1
    _pypi(
        root,
        "flask",
        {
            "0.12": False,
            "0.12.3": False,
            "1.0": False,
            "2.2.5": False,
            "2.3.0": False,
            "2.3.1": False,
            "2.3.2": True,
        },
    )
    _npm(root, "lodash", ["4.17.15", "4.17.19", "4.17.20", "5.0.0-alpha.1"])
    records = [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((shared_data / "pypa-advisory-db/vulns/jinja2").glob("*.yaml"))
        + sorted((shared_data / "pypa-advisory-db/vulns/flask").glob("*.yaml"))
    ]
    osv_zip(root / "osv" / "PyPI" / "all.zip", records)
    osv_zip(root / "osv" / "npm" / "all.zip", [LODASH_TEMPLATE])
    shutil.copy(shared_data / "cisa-kev/known_exploited_vulnerabilities.json", root / "kev.json")
    (root / "epss.csv").write_text(
        "#model_version:v2025.03.14,score_date:2026-11-26T12:55:00Z\ncve,epss,percentile\n"
    )
    with serve_folder(root) as url:
        yield {
            "MAMORI_PYPI_URL": url + "/pypi",
            "MAMORI_NPM_URL": url + "/npm",
            "MAMORI_OSV_URL": url + "/osv/{ecosystem}/all.zip",
            "MAMORI_KEV_URL": url + "/kev.json",
            "MAMORI_EPSS_URL": url + "/epss.csv",
        }


def _scan(root: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any], str]:
    run = mamori("scan", root, "--no-code", "-f", "json", *extra, env=env)
    doc = run.json()
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return run.code, doc, run.err


def _ids(f: dict[str, Any]) -> set[str]:
    return {f["advisory"]["id"], *f["advisory"]["aliases"]}


def test_online_a_range_is_checked_as_the_newest_release_it_allows(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("flask>=2.2.5\njinja2>=2.9\n", encoding="utf-8")
    code, doc, err = _scan(root, indexes)
    assert code == 1, err
    # PYSEC-2023-62 affects flask before 2.2.5 and 2.3.0 to 2.3.1: not every version >=2.2.5
    # allows, but the newest the index offers (2.3.1; 2.3.2 is yanked there)
    (finding,) = [f for f in doc["findings"] if f["package"]["name"] == "flask"]
    assert "PYSEC-2023-62" in _ids(finding)
    assert finding["match"] == "newest-allowed"
    assert finding["package"]["version"] is None
    assert finding["package"]["range"] == ">=2.2.5"
    assert finding["package"]["newest"] == "2.3.1"
    # jinja2's newest allowed is 3.1.4 (3.2.0rc1 is a pre-release): no advisory affects it
    assert not [f for f in doc["findings"] if f["package"]["name"] == "jinja2"]
    unchecked = {u["name"]: u for u in doc["coverage"]["unchecked"]}
    assert unchecked["jinja2"]["reason"] == "unpinned"
    assert "newest allowed release, 3.1.4, was checked" in unchecked["jinja2"]["detail"]
    assert "2.3.1" in unchecked["flask"]["detail"]
    assert doc["coverage"]["checked"] == 0  # what is installed is still unknown

    table = mamori("scan", root, "--no-code", env=indexes)
    # the upgrade must go above the newest allowed release (2.3.1), not to the lowest fix
    assert re.search(r"range >=2\.2\.5\s+2\.3\.2\s", table.out), table.out
    assert "the newest version the range allows (2.3.1) is affected" in " ".join(table.out.split()), table.out


def test_every_version_outranks_newest_allowed(tmp_path: Path, indexes: dict[str, str]) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("jinja2<2.10\n", encoding="utf-8")
    code, doc, _err = _scan(root, indexes)
    assert code == 1
    sandbox = next(f for f in doc["findings"] if "PYSEC-2019-217" in _ids(f))
    assert sandbox["match"] == "every-version"  # true of 2.9.6 too, and of every other
    assert sandbox["package"]["newest"] == "2.9.6"


def test_a_package_json_range_is_resolved_against_the_npm_registry(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    root = tmp_path / "web"
    root.mkdir()
    (root / "package.json").write_text(json.dumps({"dependencies": {"lodash": "^4.17.0"}}), encoding="utf-8")
    code, doc, _err = _scan(root, indexes)
    assert code == 1
    (finding,) = doc["findings"]
    assert finding["match"] == "newest-allowed" and finding["package"]["newest"] == "4.17.20"
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "no-lockfile" and "npm install --package-lock-only" in item["detail"]


def test_offline_ranges_are_not_resolved(tmp_path: Path, indexes: dict[str, str]) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("flask>=2.2.5\n", encoding="utf-8")
    assert mamori("scan", root, "--no-code", "-f", "json", env=indexes).code == 1  # fetches the database
    code, doc, _err = _scan(root, indexes, "--offline")
    assert code == 3 and doc["findings"] == []
    assert "newest" not in doc["coverage"]["unchecked"][0]["detail"]


def test_an_unreachable_index_is_said_and_ranges_stay_unchecked(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("flask>=2.2.5\n", encoding="utf-8")
    env = {**indexes, "MAMORI_PYPI_URL": closed_port_url() + "/pypi"}
    code, doc, err = _scan(root, env)
    assert code == 3 and doc["findings"] == []
    assert "could not reach the package index" in err


def test_a_fresh_database_lacking_an_ecosystem_fetches_it(tmp_path: Path, indexes: dict[str, str]) -> None:
    root = tmp_path / "web"
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\n", encoding="utf-8")
    assert mamori("scan", root, "--no-code", env=indexes).code == 0  # the database: PyPI only
    assert mamori("db", "status", "-f", "json").json()["ecosystems"].keys() == {"PyPI"}
    lock = {
        "name": "web",
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"lodash": "4.17.15"}},
            "node_modules/lodash": {"version": "4.17.15"},
        },
    }
    (root / "package-lock.json").write_text(json.dumps(lock), encoding="utf-8")
    (root / "package.json").write_text(json.dumps({"dependencies": {"lodash": "4.17.15"}}), encoding="utf-8")

    # offline, the gap is listed
    code, doc, _err = _scan(root, indexes, "--offline")
    assert code == 0
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "no-advisories" and item["name"] == "lodash"

    # online, the fresh database fetches npm and the gap is gone
    code, doc, err = _scan(root, indexes)
    assert code == 1, err
    assert doc["coverage"] == {
        "checked": 2,
        "total": 2,
        "unchecked": [],
        "files": ["package-lock.json", "package.json", "requirements.txt"],
    }
    assert {i for f in doc["findings"] for i in _ids(f)} >= {"GHSA-35jh-r3h4-6jhm"}
    assert mamori("db", "status", "-f", "json").json()["ecosystems"].keys() == {"PyPI", "npm"}


def test_a_range_of_an_ecosystem_without_advisories_is_not_resolved_nor_called_checked(
    tmp_path: Path, indexes: dict[str, str]
) -> None:
    """Juice Shop's package.json against a database of PyPI advisories only: "newest allowed
    4.17.20 checked" would claim a check against nothing, so the registry is not even asked."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("flask==3.0.3\n", encoding="utf-8")
    assert mamori("scan", app, "--no-code", env=indexes).code == 0  # the database: PyPI only
    web = tmp_path / "web"
    web.mkdir()
    (web / "package.json").write_text(json.dumps({"dependencies": {"lodash": "^4.17.0"}}), encoding="utf-8")
    # npm's advisories cannot be fetched; a registry asked for lodash would be a refused connection
    env = {**indexes, "MAMORI_OSV_URL": closed_port_url() + "/{ecosystem}/all.zip"}
    env["MAMORI_NPM_URL"] = closed_port_url() + "/npm"
    code, doc, err = _scan(web, env)
    assert code == 3 and doc["findings"] == []
    assert "could not reach the package index" not in err
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "no-lockfile" and "newest" not in item["detail"], item
