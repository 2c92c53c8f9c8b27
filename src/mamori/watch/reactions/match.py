"""``advisory`` and ``kev`` jobs: which projects may be hit, found through the component index."""

from __future__ import annotations

from mamori._text import count
from mamori.ecosystems import base_ecosystem, normalize_name
from mamori.watch.context import Context
from mamori.watch.state import Job


def advisory(ctx: Context, job: Job) -> None:
    """A new or changed OSV record: queue an ``evaluate`` of every project indexing one of its packages."""
    advisory_id = job.payload["id"]
    record = ctx.store.get(advisory_id)
    if record is None:
        ctx.log(f"{advisory_id}: not in the advisory database (the import reported why); nothing to match")
        return
    projects: set[str] = set()
    for aff in record.affected:
        if aff.ecosystem and aff.name:
            projects.update(
                ctx.state.projects_using(
                    base_ecosystem(aff.ecosystem), normalize_name(aff.ecosystem, aff.name)
                )
            )
    # a withdrawn or narrowed advisory must also clear findings it made before
    projects.update(ctx.state.projects_with_ids([advisory_id, *record.aliases]))
    with ctx.state.transaction():
        for name in sorted(projects):
            ctx.state.enqueue(
                f"evaluate:{name}:advisory:{advisory_id}:{job.payload.get('modified', '')}",
                "evaluate",
                {
                    "project": name,
                    "reason": "advisory",
                    "advisory": advisory_id,
                    "seen": job.payload.get("seen"),
                },
            )
    known = [p.name for p in ctx.fleet.projects]
    hit = [p for p in sorted(projects) if p in known]
    ctx.log(
        f"{advisory_id}: {count(len(hit), 'project')} index an affected package"
        + (f": {', '.join(hit)}" if hit else "")
    )


def kev(ctx: Context, job: Job) -> None:
    """A CVE added to KEV: re-prioritise (escalate) every project with a finding naming it."""
    cve = job.payload["cve"]
    projects = ctx.state.projects_with_ids([cve])
    with ctx.state.transaction():
        for name in projects:
            ctx.state.mark(f"kev|{cve}|{name}", "matched")
            ctx.state.enqueue(
                f"evaluate:{name}:kev:{cve}",
                "evaluate",
                {"project": name, "reason": "kev", "kev": cve, "seen": job.payload.get("seen")},
            )
    ctx.log(
        f"kev {cve}: {count(len(projects), 'project')} affected"
        + (f": {', '.join(projects)}" if projects else "")
    )
