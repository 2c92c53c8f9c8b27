"""The evidence a fix's status rests on: the tests' run, coverage of the changed lines, the PoV.

Split from :mod:`mamori.fix._engine` (which decides the statuses): how the after-run is wrapped
in coverage.py and judged, and how a code fix's proof of vulnerability is run on the original
and on the patched copy (:mod:`mamori.prove`, in the sandbox).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from mamori._text import count
from mamori.fix._coverage import Hunk
from mamori.fix._verify import Runs, TestCommand, TestRun
from mamori.fix.interface import FileEdit
from mamori.model import Finding

if TYPE_CHECKING:
    from mamori.fix._engine import _Plan


def pov_status(
    root: Path, workdir: Path, plans: Sequence[_Plan], edits: Sequence[FileEdit], runs: Runs
) -> tuple[str, str]:
    """Run each code finding's proof of vulnerability (:mod:`mamori.prove`, in the sandbox) on the
    unpatched project and on the patched copy: ``("proven", why)`` when every one that fired
    before does not after, ``("still", why)`` when one still fires, ``("", "")`` when no proof
    fired before (or none can be attempted: no web source, no class, no sandbox).

    After the patch a request must really have been sent and answered without firing; a proof
    that could not run there (the app did not start, the source line moved into the edit) is
    no evidence either way."""
    from mamori.prove import prove_findings

    code = [f for p in plans if p.kind == "code" for f in p.findings if f.trace]
    if not code:
        return "", ""
    python = Path(runs.python) if runs.python else None
    unsafe = runs.policy.unsafe
    before = prove_findings(root, code, python=python, unsafe=unsafe)
    fired = [(f, p) for f, p in zip(code, before, strict=True) if p is not None and p.status == "proven"]
    if not fired:
        return "", ""
    exact = [moved_finding(f, edits) for f, _p in fired]
    near = [m or moved_finding(f, edits, exact=False) or f for m, (f, _p) in zip(exact, fired, strict=True)]
    after = prove_findings(workdir, near, python=python, unsafe=unsafe)
    for (f, _p), proof in zip(fired, after, strict=True):
        where = f"{f.rule_id} at {f.location.path}:{f.location.line}"
        if proof is not None and proof.status == "proven":
            return "still", f"the proof of vulnerability still fires after the fix ({where}): {proof.reason}"
    # Not firing proves the fix only where the request was built from the unchanged source line
    # and really sent: a plan read from a rewritten line may simply miss the input.
    for m, proof in zip(exact, after, strict=True):
        if m is None or proof is None or proof.request is None:
            return "", ""
    first = fired[0][1]
    sent = first.request.get("curl") if first.request else ""
    return "proven", (
        f"the proof of vulnerability fired before the fix and not after ({first.reason}"
        + (f"; request: {sent}" if sent else "")
        + ")"
    )


def moved_finding(finding: Finding, edits: Sequence[FileEdit], *, exact: bool = True) -> Finding | None:
    """``finding`` with its trace's lines moved to where they are after ``edits``; None when a
    step before the sink is itself changed (no request plan can be read from it), unless not
    ``exact``. The sink's line is the one the fix rewrites: it moves with the unchanged lines
    above it (as every changed line does when not ``exact``)."""
    import difflib

    by_path = {e.path: e for e in edits}

    def line_after(path: str, line: int, *, sink: bool) -> int | None:
        edit = by_path.get(path)
        if edit is None:
            return line
        a, b = edit.before.splitlines(), edit.after.splitlines()
        offset = 0
        for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
            if block.a < line <= block.a + block.size:
                return line - block.a + block.b
            if block.a + block.size < line:
                offset = block.b - block.a
        return line + offset if sink else None

    steps = []
    for i, step in enumerate(finding.trace):
        moved = line_after(step.path, step.line, sink=not exact or i == len(finding.trace) - 1)
        if moved is None:
            return None
        steps.append(replace(step, line=moved))
    where = finding.location
    line = line_after(where.path, where.line, sink=True) or where.line
    return replace(finding, trace=tuple(steps), location=replace(where, line=line))


def describe_run(run: TestRun) -> str:
    """``12 passed, 2 failed`` (or the exit status when the runner reports no per-test outcome)."""
    if run.passed is not None:
        return f"{len(run.passed)} passed" + (f", {run.failed} failed" if run.failed else "")
    return "passed" if run.ok else f"failed (exit status {run.returncode})"


def with_coverage(
    tests: TestCommand, workdir: Path, edits: Sequence[FileEdit], plans: Sequence[_Plan], python: str
) -> tuple[TestCommand, list[Hunk], list[str], str]:
    """The test command wrapped in coverage.py for these edits, the hunks to check, the import
    names of upgraded packages, and why coverage cannot be measured ("" when it can)."""
    from mamori.fix._coverage import coverage_home, hunks, import_names, wrap

    home = coverage_home()
    if home is None:
        return (
            tests,
            [],
            [],
            "coverage.py is missing from mamori's environment; the changed lines could not be checked",
        )
    hunk_list = [hunks(e.path, e.before, e.after) for e in edits if e.path.endswith(".py")]
    packages = sorted(
        {
            n
            for p in plans
            if p.kind == "dependency"
            for _e, name, _o, _v in p.upgrades
            for n in import_names(python, name)
        }
    )
    sources = sorted({str(Path(h.path).parent.as_posix() or ".") for h in hunk_list}) + packages
    wrapped = wrap(tests, workdir, sources or ["."], home)
    if wrapped is None:
        return (
            tests,
            [],
            [],
            f"the test command ({tests.display()}) cannot be run under coverage, so no evidence the tests ran the change",
        )
    return wrapped, hunk_list, packages, ""


def coverage_verdict(
    workdir: Path, hunk_list: list[Hunk], packages: list[str], deps_only: bool, evidence: dict[str, Any]
) -> list[str]:
    """Why the coverage of the after-run falls short of verified (empty when it does not)."""
    from mamori.fix._coverage import measure

    cov = measure(workdir, hunk_list, packages)
    if not cov.measured:
        return [cov.why]
    evidence.update(
        covering_tests=cov.tests,
        lines_changed=cov.changed,
        lines_covered=cov.covered,
        uncovered=cov.uncovered,
        imported=cov.imported,
    )
    short: list[str] = []
    if packages and not cov.imported:
        short.append(f"no test imports {', '.join(packages)}, so the tests say nothing about the upgrade")
    if hunk_list and not deps_only:
        if cov.changed == 0:
            short.append("the fix changes no executable line to measure")
        elif cov.covered < cov.changed:
            shown = ", ".join(cov.uncovered[:3]) + (" …" if len(cov.uncovered) > 3 else "")
            short.append(
                f"no test runs the changed code ({cov.changed - cov.covered} of {count(cov.changed, 'changed line')} never ran: {shown})"
            )
    return short


NODE_COVERAGE_DIR = ".mamori-v8-coverage"
"""Where node writes the scripts each test process loaded (``NODE_V8_COVERAGE``), in the copy."""
_MAX_NODE_COVERAGE_FILES = 500
_NODE_URL = re.compile(rb'"url"\s*:\s*"(file://[^"\\]{1,4096})"')


def node_coverage_env(workdir: Path) -> dict[str, str]:
    """The variable that makes every node process of a test run record the scripts it loaded."""
    return {"NODE_V8_COVERAGE": str(Path(os.path.realpath(workdir)) / NODE_COVERAGE_DIR)}


def node_loaded(workdir: Path, names: Sequence[str]) -> tuple[str, ...]:
    """Files of the npm packages ``names`` in ``workdir/node_modules`` (nested copies included)
    that a node process of the test run loaded, read from the script URLs of ``NODE_V8_COVERAGE``'s reports (written inside
    the sandbox by code of the project's: read bounded, searched, never evaluated). A copy of
    the same package elsewhere (npm's own) does not count."""
    from mamori import _safejson
    from mamori.errors import ParseError

    base = Path(os.path.realpath(workdir))
    folder = base / NODE_COVERAGE_DIR
    root = base.as_uri() + "/"
    needles = [f"node_modules/{n}/" for n in names]
    found: set[str] = set()
    try:
        reports = sorted(p for p in folder.iterdir() if p.suffix == ".json" and not p.is_symlink())
    except OSError:
        return ()
    for report in reports[:_MAX_NODE_COVERAGE_FILES]:
        try:
            data = _safejson.read_bounded(report, report.name, max_bytes=64 * 1024 * 1024)
        except (ParseError, OSError):
            continue
        for m in _NODE_URL.finditer(data):
            url = m.group(1).decode("utf-8", "replace")
            if not url.startswith(root):
                continue  # npm's own copy of a package, or node's: not the project's
            rel = unquote(url[len(root) :])
            if any(rel.startswith(n) or ("/" + n) in rel for n in needles):
                found.add(rel)
    return tuple(sorted(found))


def node_installed_versions(workdir: Path, name: str) -> dict[str, str]:
    """Every copy of ``name`` npm installed in ``workdir`` (its path under the copy → version),
    from npm's own record of the tree it installed (``node_modules/.package-lock.json``), else
    the top-level copy's package.json."""
    from mamori import _safejson
    from mamori.errors import ParseError

    hidden = Path(workdir) / "node_modules" / ".package-lock.json"
    if hidden.is_file() and not hidden.is_symlink():
        try:
            data = _safejson.load(hidden, "node_modules/.package-lock.json")
        except (ParseError, OSError):
            data = None
        packages = data.get("packages") if isinstance(data, dict) else None
        if isinstance(packages, dict):
            suffix = f"node_modules/{name}"
            return {
                key: str(entry.get("version", ""))
                for key, entry in packages.items()
                if isinstance(entry, dict) and (key == suffix or key.endswith("/" + suffix))
            }
    manifest = Path(workdir) / "node_modules" / name / "package.json"
    if manifest.is_symlink():
        return {}
    try:
        top = _safejson.load(manifest, f"node_modules/{name}/package.json")
    except (ParseError, OSError):
        return {}
    version = top.get("version") if isinstance(top, dict) else None
    return {f"node_modules/{name}": version} if isinstance(version, str) else {}


def node_verdict(
    workdir: Path,
    names: Sequence[str],
    edits: Sequence[FileEdit],
    installed: str,
    evidence: dict[str, Any],
) -> list[str]:
    """Why an `npm test` run falls short of verified: node_modules was not installed, no node
    process of the tests loaded an upgraded package (``NODE_V8_COVERAGE``), or the fix changed
    code that no coverage of node can vouch for."""
    if not installed:
        return ["node_modules was not installed, so the tests say nothing about the upgrade"]
    short: list[str] = []
    if names:
        loaded = node_loaded(workdir, names)
        evidence["imported"] = loaded
        missing = [
            n
            for n in names
            if not any(f.startswith(f"node_modules/{n}/") or f"/node_modules/{n}/" in f for f in loaded)
        ]
        if missing:
            short.append(f"no test loads {', '.join(missing)}, so the tests say nothing about the upgrade")
    code = [e.path for e in edits if not e.path.endswith((".json", ".yaml", ".lock"))]
    if code:
        short.append(f"no coverage of the changed code under `npm test` ({', '.join(code[:3])})")
    return short
