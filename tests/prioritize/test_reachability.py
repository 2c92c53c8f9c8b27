"""Reachability of dependency findings from the project's own code."""

from __future__ import annotations

from pathlib import Path

from mamori.model import AdvisoryRef, Finding, Location, Package
from mamori.prioritize import AssetContext, prioritize
from mamori.prioritize.reachability import dependency_reachability, import_names, project_usage


def _dep(name: str, functions: tuple[str, ...] = ()) -> Finding:
    return Finding(
        kind="dependency",
        rule_id="GHSA-x",
        title="t",
        severity="high",
        location=Location("requirements.txt", 1),
        package=Package("PyPI", name, "1.0", f"pkg:pypi/{name}@1.0"),
        advisory=AdvisoryRef(id="GHSA-x", aliases=("CVE-2020-1",), functions=functions),
    )


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_import_names_differ_from_distribution_names() -> None:
    assert "yaml" in import_names("PyYAML")
    assert "PIL" in import_names("Pillow")
    assert "bs4" in import_names("beautifulsoup4")
    assert "requests" in import_names("requests")


def test_imported_package_is_reachable_and_unimported_is_not(tmp_path: Path) -> None:
    root = _project(tmp_path, {"app/views.py": "import yaml as y\nfrom jinja2 import Template\n"})
    usage = project_usage(root)
    assert dependency_reachability(_dep("PyYAML"), usage)[0] == "reachable"
    assert dependency_reachability(_dep("jinja2"), usage)[0] == "reachable"
    state, why = dependency_reachability(_dep("Pillow"), usage)
    assert state == "unreachable"
    assert "not imported" in why and "not ignored" in why


def test_affected_functions_narrow_reachability(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"a.py": "import yaml\n\ndef load(text):\n    return yaml.safe_load(text)\n"},
    )
    usage = project_usage(root)
    assert dependency_reachability(_dep("PyYAML", ("yaml.load",)), usage)[0] == "unreachable"
    assert dependency_reachability(_dep("PyYAML", ("yaml.safe_load",)), usage)[0] == "reachable"
    alias = _project(tmp_path / "b", {"m.py": "from yaml import load as L\nL('x')\n"})
    assert dependency_reachability(_dep("PyYAML", ("yaml.load",)), project_usage(alias))[0] == "reachable"


def test_skipped_folders_and_unparsable_files(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            ".venv/lib/site.py": "import pillow_only_in_venv\n",
            "node_modules/x/y.py": "import PIL\n",
            "legacy.py": "print 'python 2'\nimport PIL\n",
        },
    )
    usage = project_usage(root)
    assert usage.python_files == 1
    assert "PIL" in usage.modules  # the Python 2 file still counts through the import fallback


def test_no_python_source_is_unknown(tmp_path: Path) -> None:
    assert dependency_reachability(_dep("PyYAML"), project_usage(tmp_path))[0] == "unknown"


def test_unreachable_lowers_priority_but_keeps_the_finding(tmp_path: Path) -> None:
    root = _project(tmp_path, {"app.py": "import requests\n"})
    reach, unreach = prioritize(
        [_dep("requests"), _dep("Pillow")], root=root, context=AssetContext(sector="water")
    )
    assert reach.priority and unreach.priority
    assert unreach.status == "open"
    assert unreach.reachability == "unreachable"
    assert reach.priority.score > unreach.priority.score
    assert any("not imported" in r for r in unreach.priority.reasons)
