"""``notify`` jobs: a JSON POST to every webhook of the fleet file.

Delivery is at least once: each POST carries the job's key as ``X-Mamori-Delivery`` (and as
``delivery`` in the body), so a receiver can drop the repeat a kill between the POST and its
record may cause. Nothing secret is in the body: findings, decisions, branch and request URLs.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from mamori.errors import ResourceUnavailable
from mamori.watch._crash import checkpoint
from mamori.watch._redact import redact
from mamori.watch.context import Context
from mamori.watch.state import Job


def _text(payload: dict[str, Any]) -> str:
    event = payload.get("event", "")
    project = payload.get("project", "")
    f = payload.get("finding") or {}
    if event == "proposed":
        return f"{project}: {payload.get('summary', '')} proposed ({', '.join(payload.get('advisories', []))}): {payload.get('url') or payload.get('branch')}"
    if event == "escalated":
        via = f" (KEV {payload['kev']})" if payload.get("kev") else ""
        return f"{project}: {f.get('advisory', '')} in {f.get('component', '')} escalated to {f.get('decision', '')}{via}"
    if event == "finding":
        return f"{project}: {f.get('advisory', '')} in {f.get('component', '')} is {f.get('decision', '')} ({payload.get('why', '')})"
    if event == "not-fixed":
        return f"{project}: {f.get('advisory', '')} in {f.get('component', '')} was not fixed: {payload.get('why', '')}"
    return f"{project}: {event}"


def notify(ctx: Context, job: Job) -> None:
    """POST the notice to every webhook; a failing webhook makes the job retry."""
    body = {**job.payload, "delivery": job.key, "text": _text(job.payload), "sent": time.time()}
    failures = []
    for url in ctx.fleet.webhooks:
        try:
            response = ctx.http.post(url, json=body, headers={"X-Mamori-Delivery": job.key})
            if response.status_code >= 400:
                failures.append(f"{redact(url, keep_path=False)}: HTTP {response.status_code}")
        except httpx.HTTPError as exc:
            failures.append(f"{redact(url, keep_path=False)}: {type(exc).__name__}")
    checkpoint("notified")
    subject = job.payload.get("subject")
    if subject:
        ctx.state.mark(str(subject), "notified")
    if failures:
        raise ResourceUnavailable("webhook failed: " + "; ".join(failures))
    ctx.log(f"notified: {body['text']}" + ("" if ctx.fleet.webhooks else " (no webhook configured)"))
