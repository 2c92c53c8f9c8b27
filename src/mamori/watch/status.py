"""What ``mamori watch status`` shows: projects, feeds, queue, proposals and latencies."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from mamori._text import count
from mamori.watch._redact import redact
from mamori.watch.fleet import Fleet
from mamori.watch.state import WatchState


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def latencies(state: WatchState) -> list[dict[str, Any]]:
    """Per proposed fix: seconds from advisory published (and seen) to the proposal."""
    out = []
    for subject in state.subjects(""):
        if subject.count("|") != 2 or subject.startswith(("adv|", "kev|")):
            continue
        steps = state.timeline(subject)
        if "proposed" not in steps:
            continue
        project, advisory, component = subject.split("|")
        row: dict[str, Any] = {"project": project, "advisory": advisory, "component": component}
        for step in ("published", "seen", "matched", "fixed", "proposed", "merged"):
            row[step] = _when(steps.get(step))
        if "published" in steps:
            row["published_to_proposed"] = round(steps["proposed"] - steps["published"], 2)
        if "seen" in steps:
            row["seen_to_proposed"] = round(steps["proposed"] - steps["seen"], 2)
        out.append(row)
    return out


def kev_latencies(state: WatchState) -> list[dict[str, Any]]:
    """Per KEV addition hitting a project: seconds from the catalogue change being seen to the notice."""
    out = []
    for subject in state.subjects("kev|"):
        parts = subject.split("|")
        if len(parts) != 3:
            continue
        steps = state.timeline(subject)
        seen = state.timeline(f"kev|{parts[1]}").get("seen")
        row: dict[str, Any] = {"cve": parts[1], "project": parts[2], "seen": _when(seen)}
        for step in ("matched", "escalated", "notified"):
            row[step] = _when(steps.get(step))
        if seen and "notified" in steps:
            row["seen_to_notified"] = round(steps["notified"] - seen, 2)
        out.append(row)
    return out


def collect_status(fleet: Fleet, state: WatchState) -> dict[str, Any]:
    """Everything ``watch status`` reports, as plain data (the JSON output)."""
    cursors = state.cursors()
    components = state.component_count()
    findings = state.findings_of()
    by_project: dict[str, Counter[str]] = {}
    for f in findings:
        by_project.setdefault(f["project"], Counter())[f["decision"]] += 1
    projects = []
    for p in fleet.projects:
        head = cursors.get(f"commit/{p.name}")
        projects.append(
            {
                "name": p.name,
                "source": redact(p.source),
                "branch": p.branch or (cursors.get(f"branch/{p.name}", ("", 0))[0]),
                "policy": p.policy,
                "auto_fix": list(p.auto_fix),
                "asset": {
                    "sector": p.asset.sector,
                    "criticality": p.asset.criticality,
                    "exposure": p.asset.exposure,
                },
                "commit": head[0] if head else "",
                "seen": _when(head[1]) if head else "",
                "components": components.get(p.name, 0),
                "findings": dict(by_project.get(p.name, Counter())),
            }
        )
    feeds = [
        {"feed": name, "updated": _when(updated)}
        for name, (_value, updated) in sorted(cursors.items())
        if name.startswith(("osv/", "kev", "epss")) and not name.endswith("/etag")
    ]
    lat = latencies(state)
    values = sorted(r["published_to_proposed"] for r in lat if "published_to_proposed" in r)
    return {
        "fleet": str(fleet.path),
        "projects": projects,
        "feeds": feeds,
        "jobs": state.job_counts(),
        "failed": state.failed_jobs(),
        "proposals": [{**p, "created": _when(p["created"])} for p in state.proposals()],
        "latency": {
            "fixes": lat,
            "published_to_proposed_p50": round(statistics.median(values), 2) if values else None,
            "published_to_proposed_max": values[-1] if values else None,
        },
        "kev": kev_latencies(state),
        "log": [{"at": _when(at), "message": m} for at, m in state.recent_log(15)],
        "generated": _when(time.time()),
    }


def render_status(data: dict[str, Any]) -> str:
    """The status as readable text."""
    lines = [f"fleet: {data['fleet']}", ""]
    lines.append(f"projects ({len(data['projects'])}):")
    if not data["projects"]:
        lines.append("  none: add one with `mamori watch add PATH|GIT-URL`")
    for p in data["projects"]:
        counts = ", ".join(f"{n} {d}" for d, n in sorted(p["findings"].items())) or "no findings"
        lines.append(
            f"  {p['name']}: {p['source']} [{p['branch'] or 'default branch'}] policy={p['policy']} "
            f"auto_fix={','.join(p['auto_fix']) or '-'}"
        )
        lines.append(
            f"    {count(p['components'], 'component')} indexed; {counts}"
            + (f"; at {p['commit'][:12]} (seen {p['seen']})" if p["commit"] else "; not indexed yet")
        )
    lines.append("")
    lines.append("feeds:" if data["feeds"] else "feeds: not polled yet (run `mamori watch run --once`)")
    for f in data["feeds"]:
        lines.append(f"  {f['feed']}: last moved {f['updated']}")
    jobs = data["jobs"]
    lines.append("")
    lines.append("queue: " + (", ".join(f"{n} {s}" for s, n in sorted(jobs.items())) or "empty"))
    for j in data["failed"]:
        lines.append(f"  failed after {count(j['attempts'], 'attempt')}: {j['key']}: {j['error']}")
    lines.append("")
    lines.append(f"proposals ({len(data['proposals'])}):")
    for p in data["proposals"]:
        lines.append(
            f"  {p['project']}: {p['advisory']} {p['component']} → {p['target']}: {p['state']} "
            f"{p['url'] or p['branch']}"
        )
    lat = data["latency"]
    if lat["published_to_proposed_p50"] is not None:
        lines.append("")
        lines.append(
            f"advisory published → verified fix proposed: p50 {lat['published_to_proposed_p50']}s, "
            f"max {lat['published_to_proposed_max']}s over {len(lat['fixes'])} fix(es)"
        )
    for k in data.get("kev", []):
        if "seen_to_notified" in k:
            lines.append(
                f"KEV {k['cve']} hit {k['project']}: escalated and notified in {k['seen_to_notified']}s"
            )
    if data["log"]:
        lines.append("")
        lines.append("recent log:")
        lines.extend(f"  {e['at']} {e['message']}" for e in data["log"])
    return "\n".join(lines)
