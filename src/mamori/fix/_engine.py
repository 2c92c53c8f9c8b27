"""The fix loop: scan, plan one patch per finding, prove each patch, prove them together, apply.

Why this order: a patch is cheap to write and expensive to trust. Every patch is rendered into
its own scratch copy and checked there (in parallel, two at a time on small machines), then the
verified ones are rendered together and checked once more, because two good fixes can still
break each other. Only then are files of the user's tree replaced, each atomically.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.fix._choose import VersionChooser
from mamori.fix._code import CodeTarget, guess_paramstyle, rewrite_code
from mamori.fix._index import PackageIndex
from mamori.fix._manifests import DepChange, UnsupportedFile, lock_command, rewrite
from mamori.fix._verify import (
    TestCommand,
    TestRun,
    detect_tests,
    make_env,
    run_tests,
    scan_delta,
    scratch_copy,
    tests_still_pass,
    write_atomic,
)
from mamori.fix.interface import FileEdit, FixReport, FixResult, Patch, Verification
from mamori.inventory.interface import Component
from mamori.model import Finding, Report

Warn = Callable[[str], None]


@dataclass
class _Plan:
    """A patch in the making: what to change, for which findings."""

    findings: list[Finding]
    rule: str
    kind: str
    summary: str = ""
    dep_changes: list[DepChange] = field(default_factory=list)
    code_targets: list[tuple[str, CodeTarget]] = field(default_factory=list)
    llm_files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    upgrades: list[tuple[str, str, str, str]] = field(default_factory=list)
    source: str = "rule"


@dataclass
class _Outcome:
    plan: _Plan
    status: str = "unverified"
    why: str = ""
    seconds: float | None = None
    options: tuple[str, ...] = ()
    patch: Patch | None = None


def fix_project(
    root: Path,
    *,
    deps: bool = True,
    code: bool = True,
    strategy: str = "in-place",
    test_command: str | None = None,
    verify: bool = True,
    apply: bool = True,
    offline: bool = True,
    database: Path | None = None,
    branch: str | None = None,
    llm: bool = False,
    install: bool | None = None,
    index: bool | None = None,
    workers: int = 2,
    warn: Warn | None = None,
) -> FixReport:
    """Scan ``root``, write a patch for every finding that has one, prove it, and apply the proven ones.

    ``apply=False`` is a dry run. ``install`` (default: online and not offline) installs upgraded
    Python requirements into a scratch virtualenv so the tests run against the new versions.
    ``branch`` commits each verified fix to a new git branch instead of changing the working tree.
    ``index`` (default: not offline) asks the package index (PyPI, npm) for released versions;
    with ``offline=True, index=True`` the advisory database stays as it is while the index is
    still asked (how the benchmarks run).
    """
    from mamori.scan import ScanOptions, scan_targets

    if strategy not in ("in-place", "latest-safe"):
        raise InputError(f"unknown strategy {strategy!r}: use in-place or latest-safe")
    root = Path(root)
    if not root.is_dir():
        raise InputError("mamori fix needs a project folder", path=str(root))
    root = root.resolve()
    warn = warn or (lambda _m: None)
    started = time.perf_counter()
    options = ScanOptions(
        deps=deps, code=code, offline=offline, record=False, database=database, prioritize=False
    )
    before = scan_targets([root], options, warn=warn)
    rescan_options = replace(options, offline=True)
    scan_seconds = time.perf_counter() - started
    findings = [
        f
        for f in before.findings
        if f.status == "open" and (deps or f.kind != "dependency") and (code or f.kind != "code")
    ]

    outcomes: list[_Outcome] = []
    store = None
    if any(f.kind == "dependency" for f in findings):
        from mamori.advisories.store import AdvisoryStore
        from mamori.scan import _default_db

        store = AdvisoryStore(database or _default_db())
    use_index = (not offline) if index is None else index
    outcomes += _plan_dependencies(
        root, [f for f in findings if f.kind == "dependency"], store, strategy, not use_index
    )
    outcomes += _plan_code(root, [f for f in findings if f.kind == "code"])
    if llm:
        _llm_drafts(root, outcomes, warn)

    errors: list[str] = []
    python = os.environ.get("MAMORI_FIX_PYTHON") or _python()
    tests = detect_tests(root, test_command, python) if verify else None
    do_install = (not offline) if install is None else install
    warnings: list[str] = []
    baseline: TestRun | None = None
    method = "none"
    if verify:
        method = "tests+re-scan" if tests else "re-scan"
        if tests is None:
            warnings.append("no tests found: fixes are verified by re-scan (and version resolution) only")
        else:
            base_dir = scratch_copy(root)
            try:
                baseline = run_tests(tests, base_dir, python)
            finally:
                shutil.rmtree(base_dir.parent, ignore_errors=True)
            if not baseline.ok and not baseline.passed:
                warnings.append(
                    f"the tests fail before any fix ({tests.display()}); they are not used as evidence"
                )

    candidates = [o for o in outcomes if o.status != "not_possible" and o.plan]
    if verify:

        def check(o: _Outcome) -> None:
            ok, why = _prove(
                root, [o.plan], before, rescan_options, tests, baseline, python, do_install, offline
            )
            o.status = "verified" if ok else "unverified"
            o.why = why
            if ok:
                o.seconds = time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(check, candidates))
        verified = [o for o in candidates if o.status == "verified"]
        combined: bool | None = None
        if len(verified) > 1:
            ok, why = _prove(
                root,
                [o.plan for o in verified],
                before,
                rescan_options,
                tests,
                baseline,
                python,
                do_install,
                offline,
            )
            combined = ok
            if not ok:
                warnings.append(
                    f"the verified fixes fail together ({why}); keeping the largest set that passes"
                )
                kept: list[_Outcome] = []
                for o in verified:
                    ok2, why2 = _prove(
                        root,
                        [k.plan for k in kept] + [o.plan],
                        before,
                        rescan_options,
                        tests,
                        baseline,
                        python,
                        do_install,
                        offline,
                    )
                    if ok2:
                        kept.append(o)
                    else:
                        o.status, o.why, o.seconds = "unverified", f"conflicts with other fixes: {why2}", None
        elif len(verified) == 1:
            combined = True
    else:
        combined = None
        for o in candidates:
            o.status, o.why = "unverified", "not verified (--no-verify)"

    diffs: dict[int, str] = {}
    for o in outcomes:
        try:
            edits = _render(root, [o.plan]) if o.status != "not_possible" else []
        except (UnsupportedFile, OSError, UnicodeDecodeError):
            edits = []
        diffs[id(o)] = "".join(e.diff() for e in edits)
    to_apply = [o for o in candidates if o.status == "verified" or (not verify and o.plan.source == "rule")]
    applied = False
    branch_name = ""
    if to_apply and branch:
        branch_name = _commit_branch(root, branch, [o.plan for o in to_apply], errors)
    elif to_apply and apply:
        edits = _render(root, [o.plan for o in to_apply])
        for edit in edits:
            write_atomic(root / edit.path, edit.after)
        applied = True

    results: list[FixResult] = []
    for o in outcomes:
        diff = diffs[id(o)]
        for f in o.plan.findings:
            results.append(
                FixResult(
                    finding_id=f.id,
                    rule=o.plan.rule,
                    kind=f.kind,
                    status=o.status,  # type: ignore[arg-type]
                    why=o.why,
                    path=f.location.path,
                    line=f.location.line,
                    summary=o.plan.summary,
                    diff=diff,
                    seconds_to_verified=o.seconds,
                    applied=(applied or bool(branch_name)) and o in to_apply,
                    notes=tuple(o.plan.notes),
                    options=o.options,
                )
            )
    return FixReport(
        root=str(root),
        results=tuple(results),
        verification=Verification(
            tests=tests.display() if tests else "",
            baseline_passed=baseline.ok if baseline else None,
            method=method,
            warnings=tuple(warnings),
            combined=combined,
        ),
        scan_seconds=scan_seconds,
        total_seconds=time.perf_counter() - started,
        applied=applied,
        branch=branch_name,
        errors=tuple(errors) + tuple(f"{e.path}:{e.line}: {e.message}" for e in before.errors),
    )


def _python() -> str:
    import sys

    return sys.executable


# ------------------------------------------------------------------ planning


def _plan_dependencies(
    root: Path, findings: Sequence[Finding], store: Any, strategy: str, offline: bool
) -> list[_Outcome]:
    if not findings:
        return []
    index = PackageIndex(offline=offline, cache_dir=_cache_dir())
    chooser = VersionChooser(store, index)
    groups: dict[tuple[str, str, str, str, int], list[Finding]] = defaultdict(list)
    for f in findings:
        assert f.package is not None
        groups[
            (f.package.ecosystem, f.package.name, f.package.version, f.location.path, f.location.line)
        ].append(f)
    out: list[_Outcome] = []
    for (eco, name, version, path, line), group in groups.items():
        rules = sorted({f.rule_id for f in group})
        plan = _Plan(findings=group, rule=", ".join(rules), kind="dependency")
        component = Component(
            eco, name, version, group[0].location, purl=group[0].package.purl if group[0].package else ""
        )
        hint = tuple(v for f in group if f.advisory for v in f.advisory.fixed)
        choice = chooser.choose(component, hint, strategy)
        if choice.version is None:
            plan.summary = f"{name} {version}: no safe version"
            out.append(_Outcome(plan, "not_possible", choice.why, options=choice.options))
            continue
        plan.summary = f"{name} {version} → {choice.version}"
        plan.upgrades.append((eco, name, version, choice.version))
        plan.notes.append(choice.why)
        change = DepChange(eco, name, version, choice.version, path, line, choice.release)
        plan.dep_changes.append(change)
        filename = Path(path).name
        if filename in ("package-lock.json", "npm-shrinkwrap.json"):
            manifest = (Path(path).parent / "package.json").as_posix()
            if (root / manifest).is_file():
                plan.dep_changes.append(replace(change, path=manifest, line=0))
        command = lock_command(filename, name, choice.version)
        if command and filename not in ("package-lock.json", "npm-shrinkwrap.json"):
            plan.notes.append(
                f"{path} is a lockfile: regenerate it with `{command[1]}` after the manifest change"
            )
        try:
            _render(root, [plan])
        except (UnsupportedFile, OSError) as exc:
            out.append(
                _Outcome(
                    plan,
                    "not_possible",
                    str(exc),
                    options=(f"set {name} to {choice.version} in {path} by hand",),
                )
            )
            continue
        out.append(_Outcome(plan))
    return out


def _plan_code(root: Path, findings: Sequence[Finding]) -> list[_Outcome]:
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.location.path].append(f)
    paramstyle = _project_paramstyle(root)
    out: list[_Outcome] = []
    for path, group in by_file.items():
        file = root / path
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            for f in group:
                out.append(
                    _Outcome(_Plan([f], f.rule_id, "code"), "not_possible", f"cannot read {path}: {exc}")
                )
            continue
        targets = {f.id: _target(f) for f in group}
        try:
            _new, outcomes = rewrite_code(text, list(targets.values()), paramstyle=paramstyle)
        except Exception as exc:  # libcst parser errors and anything a strange file provokes
            for f in group:
                out.append(
                    _Outcome(
                        _Plan([f], f.rule_id, "code"), "not_possible", f"{path} could not be rewritten: {exc}"
                    )
                )
            continue
        for f in group:
            result = outcomes[f.id]
            plan = _Plan([f], f.rule_id, "code", summary=result.summary, notes=list(result.notes))
            if result.fixed:
                plan.code_targets.append((path, targets[f.id]))
                out.append(_Outcome(plan))
            else:
                out.append(_Outcome(plan, "not_possible", result.summary, options=result.options))
    return out


def _target(f: Finding) -> CodeTarget:
    return CodeTarget(
        finding_id=f.id,
        cwe=tuple(c.upper() for c in f.cwe),
        line=f.location.line,
        trace_lines=tuple(s.line for s in reversed(f.trace) if s.path == f.location.path and s.line),
    )


def _project_paramstyle(root: Path) -> str:
    from mamori.fix._verify import _walk_py

    for path in _walk_py(root):
        try:
            if guess_paramstyle(path.read_text(encoding="utf-8", errors="replace")) == "format":
                return "format"
        except OSError:
            continue
    return "qmark"


def _llm_drafts(root: Path, outcomes: list[_Outcome], warn: Warn) -> None:
    from mamori.fix._llm import LlmConfig, draft_fix

    config = LlmConfig.from_env()
    if config is None:
        warn("language-model drafts asked for, but MAMORI_LLM_URL and MAMORI_LLM_MODEL are not set")
        return
    for o in outcomes:
        if o.status != "not_possible" or o.plan.kind != "code":
            continue
        f = o.plan.findings[0]
        try:
            source = (root / f.location.path).read_text(encoding="utf-8")
            draft = draft_fix(config, f, source)
        except Exception as exc:  # an unreachable model must not stop the rule-based fixes
            warn(f"language-model draft for {f.rule_id} failed: {exc}")
            continue
        if draft is None or draft == source:
            continue
        o.plan.llm_files[f.location.path] = draft
        o.plan.source = "llm"
        o.plan.summary = f"draft by {config.model} (verified like any other patch)"
        o.status, o.why, o.options = "unverified", "", ()


# ------------------------------------------------------------------ rendering and proof


def _render(root: Path, plans: Sequence[_Plan]) -> list[FileEdit]:
    """The file edits of ``plans`` applied together to the files under ``root``."""
    dep: dict[str, list[DepChange]] = defaultdict(list)
    code: dict[str, list[CodeTarget]] = defaultdict(list)
    whole: dict[str, str] = {}
    for plan in plans:
        for change in plan.dep_changes:
            dep[change.path].append(change)
        for path, target in plan.code_targets:
            code[path].append(target)
        for path, text in plan.llm_files.items():
            whole[path] = text
    paramstyle = _project_paramstyle(root) if code else "qmark"
    edits: list[FileEdit] = []
    for path in sorted(set(dep) | set(code) | set(whole)):
        before = (root / path).read_text(encoding="utf-8")
        after = before
        if path in dep:
            after, notes = rewrite(path, after, dep[path])
            if len(plans) == 1:
                plans[0].notes.extend(n for n in notes if n not in plans[0].notes)
        if path in code:
            after, _ = rewrite_code(after, code[path], paramstyle=paramstyle)
        if path in whole:
            if path in code or path in dep:
                raise UnsupportedFile(f"{path}: a model draft and another fix touch the same file")
            after = whole[path]
        if after != before:
            edits.append(FileEdit(path, before, after))
    return edits


def _prove(
    root: Path,
    plans: Sequence[_Plan],
    before: Report,
    options: Any,
    tests: TestCommand | None,
    baseline: TestRun | None,
    python: str,
    install: bool,
    offline: bool,
) -> tuple[bool, str]:
    from mamori.scan import scan_targets

    try:
        edits = _render(root, plans)
    except (UnsupportedFile, OSError, UnicodeDecodeError) as exc:
        return False, str(exc)
    if not edits:
        return False, "the patch changes nothing"
    workdir = scratch_copy(root)
    try:
        for e in edits:
            write_atomic(workdir / e.path, e.after)
        targeted = [f for p in plans for f in p.findings]
        reasons: list[str] = []
        deps_only = all(p.kind == "dependency" for p in plans)
        if tests is not None and baseline is not None:
            run_python = python
            requirement_files = [workdir / e.path for e in edits if e.path.endswith(".txt")]
            if deps_only and not (install and requirement_files):
                reasons.append(
                    "tests not run for the upgrade ("
                    + ("offline" if offline else "no requirements file to install")
                    + ")"
                )
            else:
                if deps_only or (install and requirement_files):
                    env_python, how = make_env(workdir, requirement_files)
                    if env_python is None:
                        return False, how
                    run_python = env_python
                after = run_tests(tests, workdir, run_python)
                ok, why = tests_still_pass(baseline, after)
                if not ok:
                    return False, why
                reasons.append(why)
        report = scan_targets([workdir], options)
        ok, why = scan_delta(before, report, targeted)
        if not ok:
            return False, why
        reasons.append(why)
        if deps_only:
            reasons.append("no known advisory affects the new version")
        if tests is None:
            reasons.append("no tests to run")
        return True, "; ".join(reasons)
    finally:
        shutil.rmtree(workdir.parent, ignore_errors=True)


def _cache_dir() -> Path | None:
    try:
        from mamori.config import mamori_home

        return mamori_home() / "cache" / "index"
    except Exception:
        return None


def _commit_branch(root: Path, branch: str, plans: Sequence[_Plan], errors: list[str]) -> str:
    """Commit each plan as its own commit on a new branch, through a temporary git worktree."""

    def git(*args: str, cwd: Path = root) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InputError("--branch needs a git repository", path=str(root))
    repo = Path(top.stdout.strip())
    prefix = root.resolve().relative_to(repo.resolve())
    if git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0:
        raise InputError(f"branch {branch} exists already")
    tmp = Path(tempfile.mkdtemp(prefix="mamori-branch-"))
    work = tmp / "wt"
    added = git("worktree", "add", "-b", branch, str(work), "HEAD")
    if added.returncode != 0:
        raise InputError(f"could not create branch {branch}: {added.stderr.strip()}")
    try:
        done: list[_Plan] = []
        for plan in plans:
            try:
                edits = _render(root, [*done, plan])
            except (UnsupportedFile, OSError) as exc:
                errors.append(f"not committed: {plan.summary}: {exc}")
                continue
            for e in edits:
                write_atomic(work / prefix / e.path, e.after)
                git("add", "--", str(prefix / e.path), cwd=work)
            what = "fix(deps)" if plan.kind == "dependency" else "fix(code)"
            message = f"{what}: {plan.rule}: {plan.summary}\n\nVerified by mamori fix."
            commit = git(
                "-c",
                "user.name=mamori",
                "-c",
                "user.email=mamori@localhost",
                "commit",
                "-q",
                "-m",
                message,
                cwd=work,
            )
            if commit.returncode != 0:
                errors.append(
                    f"not committed: {plan.summary}: {commit.stderr.strip() or commit.stdout.strip()}"
                )
                continue
            done.append(plan)
    finally:
        git("worktree", "remove", "--force", str(work))
        shutil.rmtree(tmp, ignore_errors=True)
    return branch
