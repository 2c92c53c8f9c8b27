"""Proving a patch: a scratch copy, the project's own tests before and after, and a re-scan.

Why a copy: the user's tree is touched only after proof, and several patches are checked at
once, each in its own folder. A patch is proven when every test that passed before still
passes, the findings it targets are gone on a re-scan, and no finding appears that was not
there before (counted per rule and file, so a changed fingerprint of an unrelated finding on an
edited line is neither lost nor counted twice).

Tests are found the way a developer would run them: ``--test-command`` when given, else pytest
(configured in pyproject.toml/pytest.ini/setup.cfg/tox.ini, or a ``tests`` folder and pytest
installed), unittest, tox, nox, and ``npm test`` when package.json defines one. pytest and
unittest results are compared test by test (JUnit XML, ``-v`` output); other runners by exit
status.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mamori.model import Finding, Report

IGNORED = (
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
    ".nox",
    ".ruff_cache",
)
TEST_TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class TestCommand:
    """How the project's tests run: the argv (``{python}`` stands for the interpreter) and its kind."""

    argv: tuple[str, ...]
    kind: str
    """``pytest``, ``unittest``, ``tox``, ``nox``, ``npm`` or ``custom``."""
    pythonpath: tuple[str, ...] = ()
    """Folders put on the test process's ``PYTHONPATH`` after the project (coverage.py's copy)."""

    def display(self) -> str:
        """The command as a user would type it."""
        return " ".join("python" if a == "{python}" else shlex.quote(a) for a in self.argv)


@dataclass(frozen=True, slots=True)
class TestRun:
    """One run of the tests: exit status, and per-test outcomes when the runner reports them."""

    returncode: int
    passed: frozenset[str] | None
    output: str
    failed: int | None = None
    """How many tests failed or errored, when the runner reports per-test outcomes."""

    @property
    def ok(self) -> bool:
        """True when the run exited 0."""
        return self.returncode == 0


def detect_tests(
    root: Path, test_command: str | None = None, python: str = sys.executable
) -> TestCommand | None:
    """The project's test command, or None when it has no tests mamori can run."""
    if test_command:
        return TestCommand(tuple(shlex.split(test_command)), "custom")
    has_pytest = _has_module(python, "pytest")
    configured = _pytest_configured(root)
    test_files = [p for p in _walk_py(root) if re.match(r"(test_.*|.*_test)\.py$", p.name)]
    if (configured or test_files) and has_pytest:
        return TestCommand(("{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider"), "pytest")
    if test_files:
        start = "tests" if (root / "tests").is_dir() else "."
        return TestCommand(
            ("{python}", "-m", "unittest", "discover", "-v", "-s", start, "-t", "."), "unittest"
        )
    if (root / "tox.ini").is_file() and shutil.which("tox"):
        return TestCommand(("tox",), "tox")
    if (root / "noxfile.py").is_file() and shutil.which("nox"):
        return TestCommand(("nox",), "nox")
    package = root / "package.json"
    if package.is_file() and shutil.which("npm"):
        import json

        try:
            script = json.loads(package.read_text(encoding="utf-8")).get("scripts", {}).get("test", "")
        except (OSError, ValueError, AttributeError):
            script = ""
        if script and "no test specified" not in script:
            return TestCommand(("npm", "test", "--silent"), "npm")
    return None


def _has_module(python: str, module: str) -> bool:
    if python == sys.executable:
        import importlib.util

        return importlib.util.find_spec(module) is not None
    proc = subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=60, check=False)
    return proc.returncode == 0


def _pytest_configured(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    for name, marker in (
        ("pyproject.toml", "[tool.pytest"),
        ("setup.cfg", "[tool:pytest]"),
        ("tox.ini", "[pytest]"),
    ):
        path = root / name
        try:
            if path.is_file() and marker in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def _walk_py(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in IGNORED and not d.startswith(".")]
        for f in filenames:
            if f.endswith(".py"):
                yield Path(dirpath) / f


def run_tests(
    command: TestCommand, workdir: Path, python: str = sys.executable, timeout: int = TEST_TIMEOUT
) -> TestRun:
    """Run the tests in ``workdir`` and collect per-test outcomes where the runner reports them."""
    argv = [python if a == "{python}" else a for a in command.argv]
    junit: Path | None = None
    if command.kind == "pytest":
        junit = workdir / ".mamori-junit.xml"
        argv.append(f"--junitxml={junit}")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(workdir), *command.pythonpath, *filter(None, [os.environ.get("PYTHONPATH", "")])]
        ),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    try:
        proc = subprocess.run(
            argv, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return TestRun(124, frozenset(), f"the tests did not finish within {timeout} s")
    except OSError as exc:
        return TestRun(127, frozenset(), f"could not run {command.display()}: {exc}")
    output = (proc.stdout + proc.stderr)[-4000:]
    passed: frozenset[str] | None = None
    failed: int | None = None
    if junit is not None and junit.is_file():
        passed, failed = _junit_passed(junit)
        junit.unlink(missing_ok=True)
    elif command.kind == "unittest":
        passed = frozenset(
            m.group(1) for m in re.finditer(r"^(\w+ \([\w.]+\)) \.\.\. ok$", proc.stderr, re.MULTILINE)
        )
        failed = len(re.findall(r"^\w+ \([\w.]+\) \.\.\. (?:FAIL|ERROR)$", proc.stderr, re.MULTILINE))
    return TestRun(proc.returncode, passed, output, failed)


def _junit_passed(path: Path) -> tuple[frozenset[str] | None, int | None]:
    """The tests that passed and how many failed or errored (collection errors included)."""
    try:
        tree = ET.parse(path)  # written by pytest itself a moment ago
    except (ET.ParseError, OSError):
        return None, None
    passed = set()
    failed = 0
    for case in tree.iter("testcase"):
        if any(child.tag in ("failure", "error") for child in case):
            failed += 1
            continue
        if any(child.tag == "skipped" for child in case):
            continue
        passed.add(f"{case.get('classname', '')}::{case.get('name', '')}")
    return frozenset(passed), failed


def tests_still_pass(before: TestRun, after: TestRun) -> tuple[bool, str]:
    """Whether every test that passed before passes after (exit status when no per-test data)."""
    if before.passed is not None and after.passed is not None and before.passed:
        lost = sorted(before.passed - after.passed)
        if lost:
            shown = ", ".join(lost[:3]) + (" …" if len(lost) > 3 else "")
            return False, f"{len(lost)} test(s) that passed before fail now: {shown}"
        return True, f"all {len(before.passed)} tests that passed before still pass"
    if before.ok:
        return (
            after.ok,
            "the tests pass" if after.ok else "the tests fail after the fix:\n" + after.output[-800:],
        )
    return True, "the tests failed before the fix too; not used as evidence"


def scratch_copy(root: Path, into: Path | None = None) -> Path:
    """A copy of ``root`` in a new temporary folder (without VCS data, venvs and caches)."""
    target = Path(tempfile.mkdtemp(prefix="mamori-fix-", dir=into)) / root.name
    shutil.copytree(root, target, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mamori", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scan_delta(before: Report, after: Report, targeted: Iterable[Finding]) -> tuple[bool, str]:
    """Whether the targeted findings are gone and nothing new appeared, and why not."""
    targeted = list(targeted)
    after_ids = {f.id for f in after.findings}
    left = [f for f in targeted if f.id in after_ids]
    if left:
        return (
            False,
            f"the re-scan still reports {left[0].rule_id} at {left[0].location.path}:{left[0].location.line}",
        )
    expected = Counter((f.rule_id, f.location.path) for f in before.findings)
    expected.subtract(Counter((f.rule_id, f.location.path) for f in targeted))
    found = Counter((f.rule_id, f.location.path) for f in after.findings)
    for key, count in found.items():
        if count > max(expected.get(key, 0), 0):
            return False, f"the re-scan reports a new finding: {key[0]} in {key[1]}"
    return True, "the re-scan no longer reports it and reports nothing new"


def make_env(
    workdir: Path, requirement_files: list[Path], extra: tuple[str, ...] = ("pytest",), timeout: int = 900
) -> tuple[str | None, str]:
    """A scratch virtualenv beside ``workdir`` with the project's requirements installed (online).

    Beside, not inside: the re-scan of ``workdir`` must not see the installed packages.
    """
    env_dir = workdir.parent / f".mamori-venv-{workdir.name}"
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(env_dir)], check=True, capture_output=True, timeout=300
        )
        python = str(env_dir / ("Scripts" if os.name == "nt" else "bin") / "python")
        args = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        for req in requirement_files:
            args += ["-r", str(req)]
        args += list(extra)
        proc = subprocess.run(args, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"could not build a scratch environment: {exc}"
    if proc.returncode != 0:
        return None, "pip could not install the requirements: " + (proc.stderr or proc.stdout)[-600:]
    return python, "installed into a scratch virtualenv"
