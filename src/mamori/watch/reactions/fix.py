"""``fix`` jobs: the fix stage on the project's checkout, and one proposal per verified upgrade.

:func:`mamori.fix.fix_project` runs exactly as ``mamori fix --dry-run`` would: it plans the
upgrades, proves each in a scratch copy (the project's tests in the sandbox, a re-scan that no
longer shows the finding and shows nothing new), and applies nothing. Only its *verified*
results become proposals; an unverified or impossible fix becomes a notice saying why.

A proposal's identity is (project, advisory id, component, target version). The rows are
claimed in the same transaction that queues the ``propose`` job, so a fix is never proposed
twice, whatever is killed when.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mamori._text import count
from mamori.watch import _git
from mamori.watch._crash import checkpoint
from mamori.watch.context import Context
from mamori.watch.feeds.commits import branch_of, remote_of
from mamori.watch.fleet import FixSettings
from mamori.watch.state import Job

_SUMMARY = re.compile(r"^(?P<name>.+) (?P<old>\S+) → (?P<new>\S+)$")


def branch_name(name: str, target: str, component: str) -> str:
    """The deterministic branch of one upgrade: ``mamori/fix-<package>-<version>-<hash>``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "package"
    version = re.sub(r"[^A-Za-z0-9._-]+", "-", target).strip("-.")[:40] or "version"
    digest = hashlib.sha256(component.encode()).hexdigest()[:8]
    return f"mamori/fix-{slug}-{version}-{digest}"


def fix_stage(root: Path, settings: FixSettings, database: Path, warn: Callable[[str], None]) -> Any:
    """The fix stage on ``root``: verified, nothing applied, the given advisory database.

    The upgraded packages are installed (wheels only, in the sandbox, from the index pip is
    configured with: ``PIP_INDEX_URL`` in the service's environment; npm's from
    ``npm_config_registry``) so that the project's tests run against the new versions; the
    advisory database is never refreshed here. The same call runs on a remote worker
    (:mod:`mamori.watch.distributed`)."""
    from mamori.fix import fix_project

    return fix_project(
        root,
        deps=True,
        code=False,
        apply=False,
        offline=True,
        install=True,
        database=database,
        strategy=settings.strategy,
        test_command=settings.test_command or None,
        python=settings.python or None,
        warn=warn,
    )


def run_fix(ctx: Context, root: Path) -> Any:
    """:func:`fix_stage` with the service's settings and database."""
    return fix_stage(root, ctx.fleet.fix, ctx.store.path, lambda m: ctx.log(f"fix: {m}"))


def fix(ctx: Context, job: Job) -> None:
    """Run the fix stage for the job's findings and plan a proposal for each verified upgrade."""
    project = ctx.fleet.project(job.payload["project"])
    wanted: list[dict[str, Any]] = job.payload["findings"]
    todo = [w for w in wanted if not ctx.state.proposed_for(project.name, w["advisory"], w["component"])]
    if not todo:
        ctx.log(f"{project.name}: every fix asked for was proposed already")
        return
    root = ctx.checkout(project)
    # the commit the fix is verified on is the checkout's own (not the cursor, which may be ahead)
    base = _git.git("rev-parse", "HEAD", cwd=root).strip() if (root / ".git").exists() else ""
    started = time.time()
    remote = remote_of(ctx, project) if ctx.fleet.fix.broker else ""
    if remote and base:
        from mamori.watch.distributed import remote_fix

        ctx.log(f"{project.name}: fixing {count(len(todo), 'finding')} on a remote worker")
        report = remote_fix(ctx, ctx.fleet.fix, remote, branch_of(ctx, project), base, todo)
        ctx.log(f"{project.name}: fixed by worker {report.worker}")
    else:
        ctx.log(f"{project.name}: fixing {count(len(todo), 'finding')} in the sandbox")
        report = run_fix(ctx, root)
    by_id = {r.finding_id: r for r in report.results}
    checkpoint("fixed")
    groups: dict[str, dict[str, Any]] = {}
    unfixed: list[tuple[dict[str, Any], str]] = []
    for w in todo:
        result = by_id.get(w["id"])
        if result is None:
            unfixed.append((w, "the fix stage no longer sees this finding"))
            continue
        match = _SUMMARY.match(result.summary)
        if result.status != "verified" or not result.diff or match is None:
            unfixed.append((w, f"{result.status}: {result.why}"))
            continue
        target = match.group("new")
        branch = branch_name(match.group("name"), target, w["component"])
        group = groups.setdefault(
            branch,
            {
                "branch": branch,
                "component": w["component"],
                "target": target,
                "summary": result.summary,
                "diff": result.diff,
                "why": result.why,
                "notes": list(result.notes),
                "advisories": [],
                "findings": [],
                "seconds": result.seconds_to_verified,
            },
        )
        group["advisories"].append(w["advisory"])
        group["aliases"] = sorted(
            {*group.get("aliases", []), *(i for i in w.get("ids", []) if i not in group["advisories"])}
        )
        group["findings"].append(w)
    verification = {
        "method": report.verification.method,
        "tests": report.verification.tests,
        "baseline_passed": report.verification.baseline_passed,
        "warnings": list(report.verification.warnings),
    }
    fixed_at = time.time()
    planned = 0
    with ctx.state.transaction():
        for branch, group in groups.items():
            fresh = [
                a
                for a in group["advisories"]
                if ctx.state.add_proposal(project.name, a, group["component"], group["target"], branch)
            ]
            for a in group["advisories"]:
                ctx.state.mark(f"{project.name}|{a}|{group['component']}", "fixed", fixed_at)
            if not fresh:
                continue
            planned += 1
            ctx.state.enqueue(
                f"propose:{project.name}:{branch}",
                "propose",
                {
                    "project": project.name,
                    "base": base,
                    **group,
                    "verification": verification,
                    "date": f"{int(job.payload.get('date', started))} +0000",
                },
            )
        for w, why in unfixed:
            ctx.state.enqueue(
                f"notify:unfixed:{project.name}:{w['id']}:{base}",
                "notify",
                {"event": "not-fixed", "project": project.name, "finding": w, "why": why},
            )
    checkpoint("proposal-planned")
    ctx.log(
        f"{project.name}: fix stage took {time.time() - started:.1f}s; {count(planned, 'proposal')} planned"
        + (f", {len(unfixed)} not fixed" if unfixed else "")
    )
