"""``mamori fix --branch``: each fix its own commit on a new branch, its evidence in the message.

git runs through :mod:`mamori.fix._git` (hooks, fsmonitor, filters and signing off); the files
are written into a temporary worktree, never through a symlink.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mamori._text import count
from mamori.errors import InputError
from mamori.fix._manifests import UnsupportedFile
from mamori.fix._verify import write_atomic
from mamori.fix.interface import FileEdit
from mamori.sandbox import scratch_dir

if TYPE_CHECKING:
    from mamori.fix._engine import _Outcome, _Plan

Render = Callable[[Sequence["_Plan"]], list[FileEdit]]
"""The file edits of some plans applied together (the engine's renderer, bound to the project)."""


def commit_branch(
    root: Path, branch: str, outcomes: Sequence[_Outcome], errors: list[str], render: Render
) -> str:
    """Commit each fix as its own commit on a new branch, through a temporary git worktree; the
    message carries the fix's status and evidence.

    git runs with hooks, fsmonitor, filters and signing disabled (:mod:`mamori.fix._git`): the
    repository's own configuration may be hostile.
    """
    from mamori.fix._git import git as safe_git

    def git(*args: str, cwd: Path = root) -> subprocess.CompletedProcess[str]:
        return safe_git(*args, cwd=cwd)

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InputError("--branch needs a git repository", path=str(root))
    repo = Path(top.stdout.strip())
    prefix = root.resolve().relative_to(repo.resolve())
    if git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0:
        raise InputError(f"branch {branch} exists already")
    tmp = scratch_dir("mamori-branch-")
    work = tmp / "wt"
    added = git("worktree", "add", "-b", branch, str(work), "HEAD")
    if added.returncode != 0:
        raise InputError(f"could not create branch {branch}: {added.stderr.strip()}")
    try:
        done: list[_Plan] = []
        for outcome in outcomes:
            plan = outcome.plan
            try:
                edits = render([*done, plan])
            except (UnsupportedFile, OSError) as exc:
                errors.append(f"not committed: {plan.summary}: {exc}")
                continue
            for e in edits:
                write_atomic(work / prefix / e.path, e.after, root=work)
                git("add", "--", str(prefix / e.path), cwd=work)
            what = "fix(deps)" if plan.kind == "dependency" else "fix(code)"
            message = commit_message(what, outcome)
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


def commit_message(what: str, outcome: _Outcome) -> str:
    """One fix's commit message: what it fixes, its status and the evidence it rests on."""
    plan, ev = outcome.plan, outcome.evidence
    f = plan.findings[0]
    lines = [
        f"{what}: {plan.rule}: {plan.summary}",
        "",
        f"Fixes {f.rule_id} at {f.location.path}:{f.location.line}.",
    ]
    lines.append(f"Status: {outcome.status} (mamori fix)")
    if outcome.why:
        lines.append(f"Why: {outcome.why}")
    if ev.tests_before or ev.tests_after:
        lines.append(f"Tests: before {ev.tests_before or 'not run'}; after {ev.tests_after or 'not run'}")
    if ev.lines_changed:
        lines.append(f"Coverage: {ev.lines_covered} of {count(ev.lines_changed, 'changed line')} ran")
    if ev.covering_tests:
        lines.append(
            "Run by: " + ", ".join(ev.covering_tests[:10]) + (" …" if len(ev.covering_tests) > 10 else "")
        )
    if ev.imported:
        lines.append("Imported by the tests: " + ", ".join(ev.imported[:5]))
    if ev.proof:
        lines.append(f"Proof of vulnerability: {ev.proof}")
    for note in plan.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"
