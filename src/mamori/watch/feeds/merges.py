"""The forge's word on proposals: a merge request that was merged marks its fix ``merged``.

mamori never merges; people do. Each cycle asks the forge about the requests still open and
records when one was merged (its ``merged_at``), the last step of the fix's timeline.
"""

from __future__ import annotations

from mamori.advisories.osv import parse_timestamp
from mamori.watch.context import Context
from mamori.watch.reactions.forge import GitHub


def poll(ctx: Context) -> int:
    """Update the proposals whose request was merged; how many."""
    forge = GitHub(ctx.http, ctx.fleet.forge.api, ctx.fleet.forge.token())
    merged = 0
    for name, branch, number in ctx.state.open_requests():
        try:
            project = ctx.fleet.project(name)
        except Exception:  # a project removed from the fleet file: its requests are not followed
            continue
        if not project.github:
            continue
        pull = forge.get(project.github, number)
        when = parse_timestamp(pull.merged_at) if pull.merged_at else None
        if when is None and pull.state != "closed":
            continue
        with ctx.state.transaction():
            ctx.state.update_proposals(branch, name, state="merged" if when else "closed")
            if when is not None:
                for subject in ctx.state.subjects_of_branch(name, branch):
                    ctx.state.mark(subject, "merged", when.timestamp())
        merged += 1 if when else 0
        ctx.log(f"{name}: request #{number} {'merged' if when else 'closed without merging'}")
    return merged
