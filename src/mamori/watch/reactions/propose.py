"""``propose`` jobs: the verified diff on a ``mamori/…`` branch, pushed, with a merge request.

Steps, each recorded in the job (``step``) when done and each safe to repeat:

1. ``committed``: the diff applied to the watched branch's commit the fix was verified on, as
   one commit with fixed author and dates (a repeat gives the same commit);
2. ``pushed``: the branch pushed to the project's remote without force. A remote branch at the
   same commit is a done push; one with other commits is never overwritten (the job fails and
   says so). mamori never pushes to the watched or default branch;
3. ``opened``: the merge request, found by its head branch or else opened, with the evidence
   (the fix stage's verification, the advisory, the diff) in its body;
4. the proposals' rows say ``proposed`` with the request's URL, and people are notified.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from mamori.watch import _git
from mamori.watch._crash import checkpoint
from mamori.watch.context import Context
from mamori.watch.feeds.commits import branch_of, remote_of
from mamori.watch.reactions.forge import GitHub
from mamori.watch.state import Job


def body(payload: dict[str, Any]) -> str:
    """The merge request's description: what, why, and how it was verified."""
    v = payload.get("verification", {})
    lines = [
        f"mamori watch proposes **{payload['summary']}** in `{payload['component']}`.",
        "",
        "## Advisories",
        *[f"- {a}" for a in payload["advisories"]],
        *([f"- also known as: {', '.join(payload['aliases'])}"] if payload.get("aliases") else []),
        "",
        "## Evidence (mamori fix, verified in the sandbox)",
        f"- verification: {v.get('method', '')}",
        f"- tests: `{v.get('tests') or 'none found'}`"
        + (
            ""
            if v.get("baseline_passed") is None
            else f" (passed before the fix: {'yes' if v.get('baseline_passed') else 'no'})"
        ),
        f"- result: {payload.get('why', '')}",
        *[f"- note: {n}" for n in payload.get("notes", [])],
        *[f"- warning: {w}" for w in v.get("warnings", [])],
        "",
        "## Diff",
        "```diff",
        payload["diff"].rstrip("\n"),
        "```",
        "",
        "Nothing was merged: a person decides. Closing this request does not make mamori open it again.",
    ]
    return "\n".join(lines)


def propose(ctx: Context, job: Job) -> None:
    """Run the remaining steps of one proposal."""
    p = job.payload
    project = ctx.fleet.project(p["project"])
    root = ctx.checkout(project)
    branch = p["branch"]
    watched = branch_of(ctx, project)
    remote = remote_of(ctx, project)
    step = job.step
    if step == "":
        if not (root / ".git").is_dir():
            _git.sync_checkout(remote, watched, root)
        message = f"fix(deps): {', '.join(p['advisories'])}: {p['summary']}\n\nVerified by mamori fix (mamori watch)."
        sha = _git.commit_branch(root, p["base"] or "HEAD", branch, p["diff"], message, p["date"])
        with ctx.state.transaction():
            ctx.state.update_proposals(branch, project.name, commit_sha=sha, state="committed")
            ctx.state.set_step(job, "committed")
        checkpoint("branch-committed")
        step = "committed"
    if step == "committed":
        sha = _git.git("rev-parse", f"refs/heads/{branch}", cwd=root).strip()
        there = _git.remote_head(remote, branch)
        if there and there != sha:
            raise _git.GitError(
                f"{remote} has a branch {branch} with other commits; not overwritten (delete it to let mamori propose again)"
            )
        if not there:
            protected = {watched}
            with contextlib.suppress(_git.GitError):
                protected.add(_git.default_branch(remote))
            _git.push_branch(root, branch, protected)
        with ctx.state.transaction():
            ctx.state.update_proposals(branch, project.name, state="pushed")
            ctx.state.set_step(job, "pushed")
        checkpoint("branch-pushed")
        ctx.log(f"{project.name}: pushed {branch}")
        step = "pushed"
    url, number = "", None
    if step == "pushed":
        if project.github:
            forge = GitHub(ctx.http, ctx.fleet.forge.api, ctx.fleet.forge.token())
            pull = forge.find(project.github, branch)
            if pull is None:
                title = f"mamori: {p['summary']} ({', '.join(p['advisories'])})"
                pull = forge.open(project.github, branch, watched, title, body(p))
                ctx.log(f"{project.name}: opened merge request #{pull.number}")
            checkpoint("request-opened")
            url, number = pull.url, pull.number
        proposed = time.time()
        with ctx.state.transaction():
            ctx.state.update_proposals(branch, project.name, state="proposed", url=url, number=number)
            for a in p["advisories"]:
                ctx.state.mark(f"{project.name}|{a}|{p['component']}", "proposed", proposed)
            ctx.state.set_step(job, "opened")
            ctx.state.enqueue(
                f"notify:proposed:{project.name}:{branch}",
                "notify",
                {
                    "event": "proposed",
                    "project": project.name,
                    "branch": branch,
                    "url": url,
                    "summary": p["summary"],
                    "component": p["component"],
                    "advisories": p["advisories"],
                    "verification": p.get("verification", {}),
                },
            )
        if not project.github:
            ctx.log(
                f"{project.name}: {branch} pushed; no forge project (github = owner/repo) to open a request on"
            )
