"""FIRST EPSS scores: re-rank the findings whose exploitation probability moved.

The daily CSV (``#model_version:…,score_date:…`` then ``cve,epss,percentile``, usually gzipped)
is fetched with ``If-None-Match``/``If-Modified-Since``, imported into the advisory database,
and every project with a finding whose CVE's score moved by :data:`MOVE` or more gets an
``evaluate`` job (its decisions are recomputed with the new scores).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mamori._text import count
from mamori.watch._redact import redact
from mamori.watch.context import Context
from mamori.watch.feeds._http import fetch_to

MOVE = 0.05
"""A change of the EPSS probability at least this large re-ranks the finding."""


def poll(ctx: Context) -> int:
    """Fetch new scores if they changed; the number of projects queued for re-ranking."""
    url = ctx.fleet.feeds.epss
    if not url:
        return 0
    etag = ctx.state.cursor("epss/etag") or ""
    cves = sorted(
        {i.upper() for f in ctx.state.findings_of() for i in f.get("ids", []) if i.upper().startswith("CVE-")}
    )
    before = ctx.store.epss_many(cves) if ctx.store.exists and cves else {}
    suffix = ".csv.gz" if url.split("?", 1)[0].endswith(".gz") else ".csv"
    with tempfile.TemporaryDirectory(prefix="mamori-watch-epss-") as tmp:
        dest = Path(tmp) / f"epss{suffix}"
        response = fetch_to(ctx.http, url, dest, {"If-None-Match": etag} if etag else None)
        if response is None:
            return 0
        summary = ctx.store.import_paths([dest])
        for e in summary.errors:
            ctx.log(f"epss: {e.path}: {e.message}")
        if not summary.epss:
            ctx.log(f"epss: {redact(url)} held no scores; kept the previous ones")
            return 0
    after = ctx.store.epss_many(cves) if cves else {}
    moved = [c for c in cves if abs(after.get(c, (0.0, 0.0))[0] - before.get(c, (0.0, 0.0))[0]) >= MOVE]
    projects = ctx.state.projects_with_ids(moved)
    version = response.headers.get("ETag", "") or response.headers.get("Last-Modified", "")
    with ctx.state.transaction():
        for name in projects:
            ctx.state.enqueue(
                f"evaluate:{name}:epss:{version or len(moved)}:{','.join(moved)[:200]}",
                "evaluate",
                {"project": name, "reason": "epss"},
            )
        ctx.state.set_cursor("epss/etag", response.headers.get("ETag", ""))
    ctx.log(
        f"epss: {count(summary.epss, 'score')}; {count(len(moved), 'CVE')} of the fleet moved, {count(len(projects), 'project')} re-ranked"
    )
    return len(projects)
