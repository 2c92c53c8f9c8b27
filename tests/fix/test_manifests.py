"""Rewriting declaring files: versions change, formatting, comments and other lines stay."""

from __future__ import annotations

import json

import pytest

from mamori.fix._index import Release
from mamori.fix._manifests import DepChange, UnsupportedFile, lock_command, rewrite
from mamori.inventory import collect

from .conftest import FIXTURES

MANIFESTS = FIXTURES / "manifests"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_requirements_pin_and_hashes_recomputed() -> None:
    text = (MANIFESTS / "requirements-hashed.txt").read_text()
    release = Release("5.4", hashes=("sha256:" + "4" * 64, "sha256:" + "5" * 64))
    changes = [
        DepChange("PyPI", "pyyaml", "5.3", "5.4", "requirements.txt", _line_of(text, "PyYAML"), release),
        DepChange("PyPI", "flask", "0.12.2", "2.2.5", "requirements.txt", _line_of(text, "flask")),
        DepChange("PyPI", "requests", "2.19.1", "2.31.0", "requirements.txt", _line_of(text, "requests")),
    ]
    new, notes = rewrite("requirements.txt", text, changes)
    assert "flask==2.2.5  # admin panel" in new
    assert "# production pins (pip-compile --generate-hashes)" in new
    assert 'requests[security]==2.31.0 ; python_version >= "3"' in new
    assert "PyYAML==5.4 \\" in new
    assert "e9f45bd5" not in new and new.count("--hash=sha256:") == 2 and "4" * 64 in new
    assert notes == []


def test_requirements_hashes_dropped_offline_with_a_warning(tmp_path) -> None:
    text = (MANIFESTS / "requirements-hashed.txt").read_text()
    change = DepChange("PyPI", "pyyaml", "5.3", "5.4", "requirements.txt", _line_of(text, "PyYAML"))
    new, notes = rewrite("requirements.txt", text, [change])
    assert "--hash" not in new
    assert any("dropped the --hash pins of pyyaml" in n for n in notes)
    # the result is still a requirements file pip's format accepts: the inventory reads the new pin
    (tmp_path / "requirements.txt").write_text(new)
    comps = {c.name: c for c in collect(tmp_path).components}
    assert comps["pyyaml"].version == "5.4"
    assert comps["flask"].version == "0.12.2"


def test_pyproject_specifiers_keep_operator_and_comment() -> None:
    text = (MANIFESTS / "pyproject-pep621.toml").read_text()
    changes = [
        DepChange("PyPI", "jinja2", "2.10", "2.11.3", "pyproject.toml", _line_of(text, "jinja2")),
        DepChange("PyPI", "requests", "2.19.1", "2.31.0", "pyproject.toml", _line_of(text, "requests")),
        DepChange("PyPI", "urllib3", "1.23", "1.26.18", "pyproject.toml", _line_of(text, "urllib3")),
    ]
    new, _ = rewrite("pyproject.toml", text, changes)
    assert '"jinja2==2.11.3",  # templates' in new
    assert '"requests>=2.31.0",' in new
    assert 'urllib3 = "^1.26.18"' in new
    assert "# keep these pinned until the audit" in new
    assert len(new.splitlines()) == len(text.splitlines())


def test_a_line_that_no_longer_names_the_version_is_refused() -> None:
    text = (MANIFESTS / "pyproject-pep621.toml").read_text()
    with pytest.raises(UnsupportedFile, match="does not name"):
        rewrite("pyproject.toml", text, [DepChange("PyPI", "jinja2", "9.9", "10.0", "pyproject.toml", 1)])


def test_package_json_range_and_transitive_override() -> None:
    text = (MANIFESTS / "package.json").read_text()
    changes = [
        DepChange("npm", "lodash", "4.17.15", "4.17.21", "package.json", 0),
        DepChange("npm", "minimist", "1.2.0", "1.2.6", "package.json", 0),
    ]
    new, notes = rewrite("package.json", text, changes)
    data = json.loads(new)
    assert data["dependencies"]["lodash"] == "^4.17.21"
    assert data["overrides"] == {"minimist": "1.2.6"}
    assert any("transitive" in n for n in notes)


def test_package_lock_entry_rewritten_and_still_json(sample) -> None:
    lock = sample / "frontend" / "package-lock.json"
    text = lock.read_text()
    line = _line_of(text, '"node_modules/lodash"')
    release = Release("4.17.21", hashes=("sha512-new==",), url="https://registry.example/lodash-4.17.21.tgz")
    new, _ = rewrite(
        "package-lock.json", text, [DepChange("npm", "lodash", "4.17.15", "4.17.21", "p", line, release)]
    )
    data = json.loads(new)
    entry = data["packages"]["node_modules/lodash"]
    assert entry == {**entry, "version": "4.17.21", "integrity": "sha512-new==", "resolved": release.url}
    assert data["packages"][""]["dependencies"]["lodash"] == "4.17.21"
    assert data["packages"]["node_modules/minimist"]["version"] == "1.2.0"


def test_package_lock_offline_drops_integrity_keeps_valid_json(sample) -> None:
    lock = sample / "frontend" / "package-lock.json"
    text = lock.read_text()
    line = _line_of(text, '"node_modules/minimist"')
    new, notes = rewrite(
        "package-lock.json", text, [DepChange("npm", "minimist", "1.2.0", "1.2.6", "p", line)]
    )
    entry = json.loads(new)["packages"]["node_modules/minimist"]
    assert entry["version"] == "1.2.6" and "integrity" not in entry and entry["dev"] is True
    assert entry["resolved"].endswith("minimist-1.2.6.tgz")
    assert any("npm install --package-lock-only" in n for n in notes)


def test_lockfiles_name_their_tool() -> None:
    assert lock_command("sub/poetry.lock", "jinja2", "2.11.3") == ("poetry", "poetry update jinja2")
    assert lock_command("uv.lock", "jinja2", "2.11.3") == ("uv", "uv lock --upgrade-package jinja2==2.11.3")
    assert lock_command("requirements.txt", "x", "1") is None
    with pytest.raises(UnsupportedFile, match="poetry update"):
        rewrite("poetry.lock", "", [DepChange("PyPI", "jinja2", "2.10", "2.11.3", "poetry.lock", 1)])


_NESTED_PACKAGE = (
    '{\n  "name": "app",\n  "dependencies": {\n    "minimist": "0.0.8",\n    "rc": "^1.2.0"\n  }\n}\n'
)
_NESTED_LOCK = """{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "app", "dependencies": {"minimist": "0.0.8", "rc": "^1.2.0"}},
    "node_modules/minimist": {
      "version": "0.0.8",
      "resolved": "https://registry.npmjs.org/minimist/-/minimist-0.0.8.tgz"
    },
    "node_modules/rc/node_modules/minimist": {
      "version": "1.2.0",
      "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.0.tgz"
    },
    "node_modules/rc": {"version": "1.2.8"}
  }
}
"""


def test_a_nested_copy_of_a_package_the_project_declares_is_overridden_by_version() -> None:
    # seen on mkdirp 0.5.1: package.json declares minimist 0.0.8 while a dependency carries
    # minimist 1.2.0; the fix used to be refused ("the range of minimist does not name 1.2.0").
    # npm's override keyed by name@version (checked with npm 11: only that copy moves) fixes the
    # nested copy and leaves the project's own declaration alone
    change = DepChange("npm", "minimist", "1.2.0", "1.2.6", "package.json", 0)
    new, notes = rewrite("package.json", _NESTED_PACKAGE, [change])
    data = json.loads(new)
    assert data["dependencies"]["minimist"] == "0.0.8"
    assert data["overrides"] == {"minimist@1.2.0": "1.2.6"}
    assert any("nested copy" in n for n in notes)
    # and the lock's nested entry is the one rewritten, not the top-level one of the same name
    line = _line_of(_NESTED_LOCK, '"node_modules/rc/node_modules/minimist"')
    lock, _ = rewrite(
        "package-lock.json", _NESTED_LOCK, [DepChange("npm", "minimist", "1.2.0", "1.2.6", "p", line)]
    )
    packages = json.loads(lock)["packages"]
    assert packages["node_modules/rc/node_modules/minimist"]["version"] == "1.2.6"
    assert packages["node_modules/minimist"] == {
        "version": "0.0.8",
        "resolved": "https://registry.npmjs.org/minimist/-/minimist-0.0.8.tgz",
    }


def test_a_range_that_allows_the_fixed_version_is_kept() -> None:
    text = '{\n  "dependencies": {\n    "minimist": "^1.2.0"\n  }\n}\n'
    new, notes = rewrite(
        "package.json", text, [DepChange("npm", "minimist", "1.2.5", "1.2.6", "package.json", 0)]
    )
    assert new == text and any("keeps minimist ^1.2.0" in n for n in notes)
    with pytest.raises(UnsupportedFile, match=r"does not allow 2\.0\.0"):
        rewrite("package.json", text, [DepChange("npm", "minimist", "1.2.5", "2.0.0", "package.json", 0)])
