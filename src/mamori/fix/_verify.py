"""Proving a patch: a scratch copy, the project's own tests before and after, and a re-scan.

Why a copy: the user's tree is touched only after proof, and several patches are checked at
once, each in its own folder. A patch is proven when every test that passed before still
passes, the findings it targets are gone on a re-scan, and no finding appears that was not
there before (counted per rule and file, so a changed fingerprint of an unrelated finding on an
edited line is neither lost nor counted twice).

Tests are found the way a developer would run them: ``--test-command`` when given, else pytest
(configured in pyproject.toml/pytest.ini/setup.cfg/tox.ini, or a ``tests`` folder and pytest
installed), unittest, tox, nox, and ``npm test`` when package.json defines one. pytest and
unittest results are compared test by test (JUnit XML, ``-v`` output), and so are ``npm test``
runs that print TAP (node's own runner, asked for TAP; tape, node-tap: :mod:`._tap`); other
runners by exit status. Every test run goes through :mod:`mamori.sandbox` (the project's code is untrusted);
writes into a project go through :func:`write_atomic` with ``root``, which refuses any path
that would leave it.
"""

from __future__ import annotations

import functools
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
from pathlib import Path, PurePosixPath

from mamori._text import count
from mamori.fix._environ import RunPolicy
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
OUTPUT_LIMIT = 16 * 1024 * 1024
"""Bytes of each output stream of a test run that mamori reads (the tail; unittest -v names every test)."""
JUNIT_LIMIT = 64 * 1024 * 1024
"""A JUnit report written in the sandbox is read only below this size."""


@dataclass(frozen=True, slots=True)
class TestCommand:
    """How the project's tests run: the argv (``{python}`` stands for the interpreter) and its kind."""

    argv: tuple[str, ...]
    kind: str
    """``pytest``, ``unittest``, ``tox``, ``nox``, ``npm`` or ``custom``."""
    pythonpath: tuple[str, ...] = ()
    """Folders put on the test process's ``PYTHONPATH`` after the project (coverage.py's copy);
    each is mounted read-only in the sandbox."""

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
    root: Path, test_command: str | None = None, python: str | None = sys.executable
) -> TestCommand | None:
    """The project's test command, or None when it has no tests mamori can run.

    ``python=None``: the tests will run in a scratch virtualenv that mamori builds with pytest.
    """
    if test_command:
        return TestCommand(tuple(shlex.split(test_command)), "custom")
    has_pytest = _has_module(python, "pytest")
    configured = _pytest_configured(root)
    test_files = [p for p in _walk_py(root) if re.match(r"(test_.*|.*_test)\.py$", p.name)]
    if (configured or test_files) and has_pytest:
        return TestCommand(("{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider"), "pytest")
    if not test_files:
        # unittest's own pattern is ``test*.py``: a ``tests.py`` of TestCases (as Flask apps
        # often have) is found by ``unittest discover`` though pytest skips it
        test_files = [p for p in _walk_py(root) if p.name.startswith("test") and _imports_unittest(p)]
    if test_files:
        start = (
            "tests"
            if (root / "tests").is_dir() and any(root / "tests" in p.parents for p in test_files)
            else "."
        )
        return TestCommand(
            ("{python}", "-m", "unittest", "discover", "-v", "-s", start, "-t", "."), "unittest"
        )
    if (root / "tox.ini").is_file() and shutil.which("tox"):
        return TestCommand(("tox",), "tox")
    if (root / "noxfile.py").is_file() and shutil.which("nox"):
        return TestCommand(("nox",), "nox")
    package = root / "package.json"
    if package.is_file() and shutil.which("npm"):
        from mamori import _safejson
        from mamori.errors import ParseError

        try:  # the project's package.json: hostile input, through the shared safe loader
            script = _safejson.load(package, "package.json").get("scripts", {}).get("test", "")
        except (ParseError, AttributeError):
            script = ""
        if script and "no test specified" not in script:
            return TestCommand(("npm", "test", "--silent"), "npm")
    return None


def _imports_unittest(path: Path) -> bool:
    """Whether a Python file (its first 64 kB) imports unittest."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return re.search(rb"^\s*(?:import unittest|from unittest\b)", head, re.MULTILINE) is not None


def _has_module(python: str | None, module: str) -> bool:
    """Whether ``python`` can import ``module``, found from its files (nothing is executed).

    ``None`` stands for the scratch virtualenv mamori will build, which gets pytest installed.
    """
    if python is None:
        return True
    if python == sys.executable:
        import importlib.util

        return importlib.util.find_spec(module) is not None
    from mamori.sandbox import python_mounts

    for folder in python_mounts(Path(python)):
        places = [folder, *folder.glob("lib/python*/site-packages"), *folder.glob("lib/python3*")]
        for place in places:
            if (place / module / "__init__.py").is_file() or (place / f"{module}.py").is_file():
                return True
    return False


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
    command: TestCommand,
    workdir: Path,
    python: str = sys.executable,
    timeout: int = TEST_TIMEOUT,
    policy: RunPolicy | None = None,
) -> TestRun:
    """Run the tests in the sandbox over ``workdir`` and collect per-test outcomes.

    The scratch copy ``workdir`` is the only writable folder; the interpreter is mounted
    read-only, and so is each folder of ``command.pythonpath``; the environment is the
    allow-list plus ``PYTHONPATH`` (the copy, then ``command.pythonpath``; never mamori's own
    ``PYTHONPATH``) and ``policy.env``; no
    network unless ``policy.network``. Raises :class:`mamori.sandbox.SandboxUnavailable` when no
    sandbox can be made and ``policy.unsafe`` is false.
    """
    from mamori.sandbox import run as sandboxed
    from mamori.sandbox import tool_mounts

    policy = policy or RunPolicy()
    argv = [python if a == "{python}" else a for a in command.argv]
    junit: Path | None = None
    if command.kind == "pytest":
        junit = workdir / ".mamori-junit.xml"
        argv.append(f"--junitxml={junit}")
    readonly: tuple[Path, ...] = ()
    path: tuple[str, ...] = ()
    if argv and "/" not in argv[0] and argv[0] not in ("python", "python3"):
        readonly, path = tool_mounts(argv[0])
    env = {
        "PYTHONPATH": os.pathsep.join([str(workdir), *command.pythonpath]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if command.kind == "npm" and _node_major() >= 20:
        # node's own runner (`node --test`) prints TAP, one line per test: per-test outcomes
        env["NODE_OPTIONS"] = "--test-reporter=tap"
    box = policy.sandbox(
        workdir,
        python,
        readonly=(*readonly, *(Path(p) for p in command.pythonpath)),
        path=path,
        env=env,
    )
    try:
        proc = sandboxed(box, argv, cwd=workdir, timeout=timeout, max_output=OUTPUT_LIMIT)
    except subprocess.TimeoutExpired:
        return TestRun(124, frozenset(), f"the tests did not finish within {timeout} s")
    except OSError as exc:
        return TestRun(127, frozenset(), f"could not run {command.display()}: {exc}")
    output = (proc.stdout + proc.stderr)[-4000:]
    passed: frozenset[str] | None = None
    failed: int | None = None
    if (
        junit is not None
        and junit.is_file()
        and not junit.is_symlink()
        and junit.stat().st_size < JUNIT_LIMIT
    ):
        passed, failed = _junit_passed(junit)
        junit.unlink(missing_ok=True)
    elif command.kind == "npm":
        from mamori.fix._tap import tap_outcomes

        outcomes = tap_outcomes(proc.stdout)
        if outcomes is not None:
            passed, failed = outcomes
    elif command.kind == "unittest":
        passed = frozenset(
            m.group(1) for m in re.finditer(r"^(\w+ \([\w.]+\)) \.\.\. ok$", proc.stderr, re.MULTILINE)
        )
        failed = len(re.findall(r"^\w+ \([\w.]+\) \.\.\. (?:FAIL|ERROR)$", proc.stderr, re.MULTILINE))
    return TestRun(proc.returncode, passed, output, failed)


@functools.lru_cache(maxsize=1)
def _node_major() -> int:
    """The major version of the ``node`` on PATH (0 when there is none or it does not say)."""
    node = shutil.which("node")
    if node is None:
        return 0
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    m = re.match(r"v(\d+)\.", out.strip())
    return int(m.group(1)) if m else 0


def _junit_passed(path: Path) -> tuple[frozenset[str] | None, int | None]:
    """The tests that passed and how many failed or errored (collection errors included)."""
    try:
        tree = ET.parse(path)  # written in the sandbox; size-capped and never a symlink
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
            return False, f"tests that passed before fail now ({len(lost)}): {shown}"
        if len(before.passed) == 1:
            return True, "the 1 test that passed before still passes"
        return True, f"all {count(len(before.passed), 'test')} that passed before still pass"
    if before.ok:
        return (
            after.ok,
            "the tests pass" if after.ok else "the tests fail after the fix:\n" + after.output[-800:],
        )
    return True, "the tests failed before the fix too; not used as evidence"


def scratch_copy(root: Path, into: Path | None = None) -> Path:
    """A copy of ``root`` in a new scratch folder (without VCS data, venvs and caches).

    Symlinks are copied as symlinks: one that leads outside ``root`` dangles inside the
    sandbox, so nothing run there reaches the file it names. The folder is marked with this
    process as its owner (:func:`mamori.sandbox.clean_stale` removes it if the run is killed).
    """
    from mamori.sandbox import scratch_dir

    target = scratch_dir("mamori-fix-", into) / root.name
    shutil.copytree(root, target, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return target


class OutsideRoot(ValueError):
    """A write that would leave the project folder (a symlink, ``..`` or an absolute path)."""


def check_inside(root: Path, rel: str) -> Path:
    """``root / rel`` when writing there stays inside ``root``; else :class:`OutsideRoot` says why.

    Refused: absolute paths, ``..`` components, and any symlink on the way — a symlinked file or
    folder is read as the user's choice but never written through, wherever it leads.
    """
    pure = Path(rel)
    if pure.is_absolute() and pure.is_relative_to(root):
        pure = pure.relative_to(root)  # a path inside the root, named absolutely
    if pure.is_absolute() or ".." in pure.parts:
        raise OutsideRoot(f"{rel} is outside the project folder; mamori writes only inside it")
    current = Path(root)
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            shown = current.relative_to(root).as_posix()
            raise OutsideRoot(
                f"{shown} is a symlink; mamori never writes through a symlink: "
                "change the file it leads to by hand"
            )
    return current


def write_atomic(path: Path, text: str, *, root: Path | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written).

    With ``root``, ``path`` (absolute or relative to ``root``) must stay inside it
    (:func:`check_inside`): no symlink is written through.
    """
    if root is not None:
        rel = Path(path).relative_to(root) if Path(path).is_absolute() else Path(path)
        path = check_inside(root, rel.as_posix())
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
    for key, seen in found.items():
        if seen > max(expected.get(key, 0), 0):
            return False, f"the re-scan reports a new finding: {key[0]} in {key[1]}"
    return True, "the re-scan no longer reports it and reports nothing new"


@dataclass
class Runs:
    """How the project's tests run in this fix run, and what they gave before any fix."""

    tests: TestCommand | None
    user_python: str | None
    """The interpreter named by ``--python``/``MAMORI_FIX_PYTHON`` (None: scratch virtualenvs)."""
    install: bool
    offline: bool
    policy: RunPolicy
    python: str | None = None
    """The interpreter the tests ran with before any fix."""
    pins: tuple[str, ...] = ()
    """The project's pins the baseline virtualenv holds (scratch-virtualenv mode)."""
    baseline: TestRun | None = None
    env_baseline: TestRun | None = None
    """With a user interpreter: the tests before any fix in a virtualenv of the original pins."""
    blocked: str | None = None
    """Why the tests cannot run at all (no sandbox, no environment)."""


def extras(tests: TestCommand) -> tuple[str, ...]:
    return ("pytest",) if tests.kind == "pytest" else ()


def run_baseline(root: Path, runs: Runs, requirement_files: list[str], warnings: list[str]) -> None:
    """Run the tests once before any fix (in the sandbox), filling ``runs``."""
    from mamori.fix._environ import prepare_env, project_pins

    assert runs.tests is not None
    runs.blocked = runs.policy.blocked()
    if runs.blocked:
        return
    base_dir = scratch_copy(root)
    try:
        if runs.tests.kind == "npm":
            # node_modules from the lockfile (no install script runs), then `npm test`
            from mamori.fix._environ import install_node_modules

            runs.python = runs.user_python or sys.executable
            if runs.install:
                why = install_node_modules(base_dir, offline=runs.offline, policy=runs.policy)
                if why:
                    warnings.append(f"the tests before any fix ran without node_modules: {why}")
            runs.baseline = run_tests(runs.tests, base_dir, runs.python, policy=runs.policy)
            return
        if runs.user_python:
            runs.python = runs.user_python
        else:
            pins, skipped = project_pins(base_dir)
            runs.pins = tuple(pins)
            runs.python, how = prepare_env(pins, extras(runs.tests), offline=runs.offline, policy=runs.policy)
            if runs.python is None:
                runs.blocked = how
                return
            if skipped:
                warnings.append(
                    f"not installed (no exact pin): {', '.join(skipped[:6])}"
                    + (" …" if len(skipped) > 6 else "")
                    + "; pass --python to use an environment of your own"
                )
        runs.baseline = run_tests(runs.tests, base_dir, runs.python, policy=runs.policy)
        if runs.user_python and runs.install and requirement_files:
            pins, _skipped = project_pins(base_dir)
            env_python, how = prepare_env(
                pins, extras(runs.tests), base=runs.user_python, offline=runs.offline, policy=runs.policy
            )
            if env_python is None:
                warnings.append(
                    f"the original requirements could not be installed ({how}); "
                    "the tests before any fix ran with the named interpreter"
                )
            else:
                runs.env_baseline = run_tests(runs.tests, base_dir, env_python, policy=runs.policy)
    finally:
        shutil.rmtree(base_dir.parent, ignore_errors=True)


_TEST_FOLDERS = {
    "test": "test code",
    "tests": "test code",
    "testing": "test code",
    "__tests__": "test code",
    "fixtures": "test fixtures",
    "examples": "example code",
    "example": "example code",
    "vendor": "vendored code",
    "vendored": "vendored code",
    "_vendor": "vendored code",
    "third_party": "vendored code",
    "site-packages": "vendored code",
}


def test_code_kind(path: str) -> str:
    """``test code``, ``test fixtures``, ``example code`` or ``vendored code`` for a path that is
    one of those (a folder component named exactly so, or ``test_*.py``/``*_test.py``/
    ``conftest.py``); ``""`` for the project's own code (``testcode/`` is not a test folder)."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    for part in parts[:-1]:
        if part in _TEST_FOLDERS:
            return _TEST_FOLDERS[part]
    name = parts[-1] if parts else ""
    if (
        name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    ):
        return "test code"
    return ""
