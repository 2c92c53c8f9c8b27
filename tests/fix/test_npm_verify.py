"""An npm upgrade is verified the way a Python one is: the project's own tests run on it.

node_modules is installed from the fix's lockfile with `npm ci --ignore-scripts` in the sandbox
(a real npm against a loopback registry serving generated packages, tests/watch/world.py), the
tests run with `npm test` in the sandbox without network, and the evidence that they exercised
the upgrade is node's own record of the scripts each process loaded (``NODE_V8_COVERAGE``).
Before this, npm upgrades were never verified: no node_modules was installed for the tests.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.helpers import mamori, write_osv
from tests.watch.world import World, serve

from mamori.fix import fix_project
from mamori.sandbox import unavailable_reason

pytestmark = [
    pytest.mark.skipif(unavailable_reason() is not None, reason=f"no sandbox: {unavailable_reason()}"),
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed (apt-get install npm)"),
]

GOOD = "module.exports = { pad: (s) => s + '!' };\n"
BROKEN = "module.exports = { padLeft: (s) => '!' + s };\n"  # the API the project uses is gone


def _project(root: Path, registry: str, *, test_loads_it: bool = True) -> None:
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps(
            {
                "name": "app",
                "version": "1.0.0",
                "scripts": {"test": "node test.js"},
                "dependencies": {"padder": "1.0.0"},
            },
            indent=2,
        )
        + "\n"
    )
    lock = {
        "name": "app",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"padder": "1.0.0"}},
            "node_modules/padder": {"version": "1.0.0", "resolved": f"{registry}padder/-/padder-1.0.0.tgz"},
        },
    }
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    (root / "index.js").write_text("const p = require('padder');\nmodule.exports = (s) => p.pad(s);\n")
    (root / "test.js").write_text(
        "const assert = require('assert');\n"
        + ("assert.strictEqual(require('.')('x'), 'x!');\n" if test_loads_it else "assert.ok(true);\n")
        + "console.log('ok');\n"
    )


def _advisory(tmp_path: Path) -> None:
    write_osv(
        tmp_path / "osv",
        {
            "id": "GHSA-test-npm-0001",
            "modified": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "summary": "padder: prototype pollution",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "padder"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}],
                }
            ],
        },
    )
    assert mamori("db", "import", tmp_path / "osv").code == 0


def _fix(root: Path) -> object:
    report = fix_project(root, deps=True, code=False, apply=False, offline=True, install=True)
    (result,) = report.results
    return result


def _world(fixed_source: str) -> World:
    world = World()
    world.add_npm("padder", "1.0.0", {"index.js": GOOD})
    world.add_npm("padder", "1.0.1", {"index.js": fixed_source})
    return world


def _fix_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixed_source: str, make: object = None, **kw: bool
) -> tuple[object, list[str], Path]:
    """The padder advisory, a registry serving padder 1.0.0 and 1.0.1 (``fixed_source``), the
    project (``make``: :func:`_project` by default) and its fix: (result, requests, project)."""
    _advisory(tmp_path)
    with serve(_world(fixed_source)) as world:
        registry = f"{world.url}/npm/"
        monkeypatch.setenv("npm_config_registry", registry)
        root = tmp_path / "app"
        (make or _project)(root, registry, **kw)  # type: ignore[operator]
        result = _fix(root)
        requests = list(world.requests)
    return result, requests, root


def test_an_npm_upgrade_whose_tests_pass_on_it_is_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, requests, root = _fix_against(tmp_path, monkeypatch, GOOD)
    fetched = [r for r in requests if r.endswith(".tgz")]
    assert result.status == "verified", result.why
    assert "padder@1.0.1 with `npm ci --ignore-scripts`" in result.why
    assert "node_modules/padder/index.js" in result.evidence.imported
    assert result.evidence.tests_before and result.evidence.tests_after
    # the tarballs came from the configured registry: the old one (the tests before the fix)
    # and the new one (the tests with it)
    assert any("padder-1.0.0.tgz" in r for r in fetched) and any("padder-1.0.1.tgz" in r for r in fetched)
    assert '"version": "1.0.0"' in (root / "package-lock.json").read_text()  # nothing applied


def test_an_npm_upgrade_that_breaks_the_tests_is_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _requests, _root = _fix_against(tmp_path, monkeypatch, BROKEN)
    assert result.status == "unverified"
    assert "padder@1.0.1" in result.why and "fail" in result.why


def test_tests_that_never_load_the_upgraded_package_do_not_verify_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _requests, _root = _fix_against(tmp_path, monkeypatch, GOOD, test_loads_it=False)
    assert result.status == "unverified"
    assert "no test loads padder" in result.why


def _node_test_project(root: Path, registry: str) -> None:
    """A ``node --test`` suite: one test uses padder, one (unrelated) fails before any fix."""
    _project(root, registry)
    package = json.loads((root / "package.json").read_text())
    package["scripts"]["test"] = "node --test test/"
    (root / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (root / "test.js").unlink()
    (root / "test").mkdir()
    (root / "test" / "app.test.js").write_text(
        "const test = require('node:test');\n"
        "const assert = require('assert');\n"
        "test('pads with padder', () => assert.strictEqual(require('..')('x'), 'x!'));\n"
        "test('an old failure nobody fixed', () => assert.strictEqual(1, 2));\n"
    )


def test_node_test_outcomes_are_counted_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With per-test outcomes (node's runner prints TAP), a suite that already fails is no longer
    one exit status: the verdict names how many tests fail before the fix, and the evidence
    counts both runs."""
    result, _requests, _root = _fix_against(tmp_path, monkeypatch, GOOD, _node_test_project)
    assert result.status == "unverified"  # tests fail before the fix: the rule
    assert "tests fail before the fix (1)" in result.why, result.why
    assert result.evidence.tests_before == "1 passed, 1 failed"
    assert result.evidence.tests_after == "1 passed, 1 failed"


def test_an_upgrade_breaking_a_test_that_passed_is_named_even_when_others_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit status alone cannot tell this from the failure that was there before; per-test
    outcomes can: the test the upgrade broke is named."""
    result, _requests, _root = _fix_against(tmp_path, monkeypatch, BROKEN, _node_test_project)
    assert result.status == "unverified"
    assert "tests that passed before fail now (1): pads with padder" in result.why, result.why
