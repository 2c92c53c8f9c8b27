"""``evaluate`` jobs: a project's findings from its indexed components, prioritised, acted on.

No file of the project is re-read to match: the component index holds its dependencies, the
advisory database answers :meth:`AdvisoryStore.lookup`, and the scan pipeline's own
:func:`mamori.scan.findings_from_matches` turns matches into findings. The project's ignores
(``[[ignore]]`` of its ``mamori.toml``) are honoured, and :func:`mamori.prioritize.prioritize`
decides with the fleet file's asset context (over the project's own ``[asset]``), KEV and EPSS
from the database, reachability in the checkout and peers' reports.

What follows from the decisions: findings at a decision the project's ``auto_fix`` names get
one ``fix`` job (policy ``propose``) or a notice (``notify-only``, or no git remote to propose
on); a finding whose decision rose, or that a KEV addition names, is an escalation and is
notified.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from mamori._text import count
from mamori.config import load_project_config
from mamori.errors import InputError
from mamori.model import DECISION_ORDER, Finding
from mamori.watch.context import Context
from mamori.watch.feeds.commits import remote_of
from mamori.watch.fleet import Project
from mamori.watch.reactions.index import from_record
from mamori.watch.state import Job


def component_key(f: Finding) -> str:
    """The component part of a fix's identity: ``ecosystem/name@version (path)``."""
    assert f.package is not None
    return f"{f.package.ecosystem}/{f.package.name}@{f.package.version} ({f.location.path})"


def _asset(project: Project, config: dict[str, Any], ctx: Context) -> Any:
    from mamori.prioritize import AssetContext, asset_context

    try:
        own = asset_context(config)
    except InputError as exc:
        ctx.log(f"{project.name}: its own [asset] is ignored: {exc}")
        own = AssetContext()
    return AssetContext(
        name=project.name,
        sector=project.asset.sector or own.sector,
        criticality=project.asset.criticality or own.criticality,  # type: ignore[arg-type]
        exposure=project.asset.exposure or own.exposure,  # type: ignore[arg-type]
    )


def _peers() -> dict[str, list[str]]:
    from mamori.config import mamori_home

    if not (mamori_home() / "share.sqlite").exists():
        return {}
    from mamori.share import peer_vulnerabilities

    return peer_vulnerabilities()


def findings_of(ctx: Context, project: Project) -> list[Finding]:
    """The project's open and ignored dependency findings, each with its decision."""
    from mamori.prioritize import StoreEnrichment, apply_ignores, parse_ignores, prioritize
    from mamori.scan import findings_from_matches

    root = ctx.checkout(project)
    components = [from_record(r) for r in ctx.state.components_of(project.name)]
    if not components or not ctx.store.exists:
        return []
    findings = findings_from_matches(ctx.store.lookup(components))
    try:
        config = load_project_config(root) if root.is_dir() else {}
    except InputError as exc:
        ctx.log(f"{project.name}: its mamori.toml is ignored: {exc}")
        config = {}
    try:
        ignores = parse_ignores(config)
    except InputError as exc:
        ctx.log(f"{project.name}: its [[ignore]] entries are ignored: {exc}")
        ignores = []
    findings = apply_ignores(findings, ignores, warn=lambda m: ctx.log(f"{project.name}: {m}"))
    return prioritize(
        findings,
        enrichment=StoreEnrichment(ctx.store),
        context=_asset(project, config, ctx),
        root=root if root.is_dir() else None,
        peers=_peers(),
    )


def _record(f: Finding) -> dict[str, Any]:
    p = f.priority
    return {
        "id": f.id,
        "advisory": f.rule_id,
        "ids": list(f.all_ids),
        "title": f.title,
        "severity": f.severity,
        "component": component_key(f),
        "path": f.location.path,
        "line": f.location.line,
        "fixed": list(f.advisory.fixed) if f.advisory else [],
        "decision": p.decision if p else "",
        "score": p.score if p else 0.0,
        "reasons": list(p.reasons) if p else [],
        "status": f.status,
    }


def evaluate(ctx: Context, job: Job) -> None:
    """Recompute one project's findings, store them, queue what policy allows."""
    project = ctx.fleet.project(job.payload["project"])
    started = time.time()
    findings = [f for f in findings_of(ctx, project) if f.kind == "dependency" and f.package is not None]
    previous = {f["id"]: f for f in ctx.state.findings_of(project.name)}
    records = [_record(f) for f in findings]
    head = ctx.state.cursor(f"commit/{project.name}") or ""
    reason = job.payload.get("reason", "")
    kev = str(job.payload.get("kev", "")).upper()
    advisory = job.payload.get("advisory", "")
    actionable = [
        r
        for r in records
        if r["status"] == "open" and r["decision"] in project.auto_fix and not _proposed(ctx, project, r)
    ]
    escalated = [
        r
        for r in records
        if r["status"] == "open"
        and (
            (kev and kev in {i.upper() for i in r["ids"]})
            or (
                r["id"] in previous
                and DECISION_ORDER.get(r["decision"], 0)
                > DECISION_ORDER.get(previous[r["id"]]["decision"], 0)
            )
        )
    ]
    can_propose = project.policy == "propose" and bool(remote_of(ctx, project))
    with ctx.state.transaction():
        ctx.state.replace_findings(
            project.name,
            [
                (
                    r["id"],
                    json.dumps(r["ids"]),
                    r["component"],
                    r["decision"],
                    float(r["score"]),
                    json.dumps(r),
                )
                for r in records
            ],
        )
        for r in records:
            if advisory and advisory in r["ids"]:
                ctx.state.mark(f"{project.name}|{r['advisory']}|{r['component']}", "matched", started)
                for step, at in ctx.state.timeline(f"adv|{advisory}").items():
                    ctx.state.mark(f"{project.name}|{r['advisory']}|{r['component']}", step, at)
        for r in escalated:
            before = previous.get(r["id"], {}).get("decision", "")
            if kev:
                ctx.state.mark(f"kev|{kev}|{project.name}", "escalated")
            ctx.state.enqueue(
                f"notify:escalated:{project.name}:{r['id']}:{r['decision']}:{kev}",
                "notify",
                {
                    "event": "escalated",
                    "project": project.name,
                    "finding": r,
                    "from": before,
                    "kev": kev,
                    "subject": f"kev|{kev}|{project.name}" if kev else "",
                },
            )
        if actionable and can_propose:
            digest = hashlib.sha256(json.dumps(sorted(r["id"] for r in actionable)).encode()).hexdigest()[:16]
            ctx.state.enqueue(
                f"fix:{project.name}:{head}:{digest}",
                "fix",
                {"project": project.name, "findings": actionable},
            )
        elif actionable:
            why = (
                "policy notify-only"
                if project.policy != "propose"
                else "no git remote to propose a branch on"
            )
            for r in actionable:
                ctx.state.enqueue(
                    f"notify:finding:{project.name}:{r['id']}:{r['decision']}",
                    "notify",
                    {"event": "finding", "project": project.name, "finding": r, "why": why},
                )
    counts: dict[str, int] = {}
    for r in records:
        counts[r["decision"]] = counts.get(r["decision"], 0) + 1
    summary = ", ".join(
        f"{n} {d}" for d, n in sorted(counts.items(), key=lambda kv: -DECISION_ORDER.get(kv[0], 0))
    )
    ctx.log(
        f"{project.name}: re-prioritised ({reason}): {count(len(records), 'finding')}"
        + (f" ({summary})" if summary else "")
        + (f"; {len(escalated)} escalated" if escalated else "")
        + (f"; {len(actionable)} to fix" if actionable and can_propose else "")
        + (f"; {len(actionable)} to notify" if actionable and not can_propose else "")
    )


def _proposed(ctx: Context, project: Project, record: dict[str, Any]) -> bool:
    """True when a fix of this advisory in this component was proposed already (any target)."""
    return bool(ctx.state.proposed_for(project.name, record["advisory"], record["component"]))
