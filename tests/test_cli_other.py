"""``mamori sbom``, ``mamori demo`` and ``scan --python`` through the real CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.helpers import mamori


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "web").mkdir(parents=True)
    (root / "requirements.txt").write_text("jinja2==2.10\nrequests==2.19.1\n")
    (root / "web" / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "web",
                "lockfileVersion": 3,
                "packages": {"": {"name": "web"}, "node_modules/lodash": {"version": "4.17.15"}},
            },
            indent=2,
        )
    )
    return root


def test_sbom_cyclonedx_and_spdx_list_every_component(tmp_path: Path) -> None:
    root = _project(tmp_path)
    cdx = mamori("sbom", root, "--format", "cyclonedx")
    assert cdx.code == 0, cdx.err
    purls = {c.get("purl") for c in cdx.json()["components"]}
    assert {"pkg:pypi/jinja2@2.10", "pkg:pypi/requests@2.19.1", "pkg:npm/lodash@4.17.15"} <= purls
    out = tmp_path / "sbom.spdx.json"
    spdx = mamori("sbom", root, "--format", "spdx", "-o", out)
    assert spdx.code == 0, spdx.err
    doc = json.loads(out.read_text())
    assert doc["spdxVersion"] == "SPDX-2.3"
    refs = {r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])}
    assert "pkg:npm/lodash@4.17.15" in refs


def test_scan_reads_an_sbom_given_directly_even_with_a_plain_name(tmp_path: Path) -> None:
    root = _project(tmp_path)
    bom = tmp_path / "inventory.json"  # a name no parser claims: recognised by its content
    bom.write_text(mamori("sbom", root).out)
    run = mamori("scan", bom, "--offline", "--format", "json")
    assert run.code == 3  # no advisory database yet: the SBOM was read and needs one
    assert "db import" in run.err


def test_scan_python_environment(tmp_path: Path, shared_data: Path) -> None:
    # The interpreter running the tests has pytest installed; an advisory for its version
    # must be found through --python.
    import pytest as installed

    version = installed.__version__
    adv = tmp_path / "osv" / "GHSA-test-pytest.json"
    adv.parent.mkdir()
    adv.write_text(
        json.dumps(
            {
                "id": "GHSA-test-pytest",
                "modified": "2026-01-01T00:00:00Z",
                "summary": "test advisory for the installed pytest",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "pytest"}, "versions": [version]}],
            }
        )
    )
    assert mamori("db", "import", adv.parent).code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    run = mamori("scan", empty, "--offline", "--no-code", "--python", sys.executable, "-f", "json")
    assert run.code == 1, run.err
    names = [(f["package"]["name"], f["package"]["version"]) for f in run.json()["findings"]]
    assert ("pytest", version) in names


def test_demo_runs_offline_and_writes_its_reports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = mamori("demo", "--out", out)
    assert run.code == 0, run.err
    report = json.loads((out / "report.json").read_text())
    deps = [f for f in report["findings"] if f["kind"] == "dependency"]
    code = [f for f in report["findings"] if f["kind"] == "code"]
    assert {f["package"]["name"] for f in deps} >= {"jinja2", "pyyaml", "lodash"}
    assert any("CWE-89" in f["cwe"] for f in code)
    assert all("priority" in f for f in report["findings"])
    assert (out / "report.sarif").is_file() and (out / "sbom.spdx.json").is_file()
    assert "Timings" in run.out
    # the demo worked on a copy: the bundled sample is untouched and the copy is there
    assert (out / "sample" / "requirements.txt").is_file()


def test_operator_input_findings_need_confidence_low(tmp_path: Path) -> None:
    root = tmp_path / "tool"
    root.mkdir()
    (root / "run.py").write_text(
        "import os\nimport sys\n\n\ndef main():\n    os.system('backup ' + sys.argv[1])\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    default = mamori("scan", root, "--no-deps", "-f", "json")
    assert default.code == 0, default.err
    assert default.json()["findings"] == []
    assert "--confidence low" in default.err
    low = mamori("scan", root, "--no-deps", "-f", "json", "--confidence", "low")
    assert low.code == 1
    (finding,) = low.json()["findings"]
    assert finding["cwe"] == ["CWE-78"]
    assert finding["confidence"] == "low"
