"""CISA's Known Exploited Vulnerabilities catalogue: act on additions.

The catalogue is one JSON document (``catalogVersion``, ``dateReleased``, ``vulnerabilities``
with ``cveID`` …). It is fetched with ``If-None-Match`` (an unchanged catalogue costs a 304),
imported into the advisory database, and each CVE that was not in the previous catalogue
becomes a ``kev`` job: the projects with a finding naming it are re-prioritised (escalated) and
people are notified. The first catalogue seen is the baseline (its entries already weigh in
every decision through the database), not a flood of additions.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from mamori import _safejson
from mamori._text import count
from mamori.errors import ParseError
from mamori.watch._crash import checkpoint
from mamori.watch._redact import redact
from mamori.watch.context import Context
from mamori.watch.feeds._http import fetch_to


def _cves(doc: object) -> list[str] | None:
    """The catalogue's CVE ids, or None when ``doc`` is not a KEV catalogue."""
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        return None
    if not doc["vulnerabilities"] and "catalogVersion" not in doc:
        return None
    out = []
    for entry in doc["vulnerabilities"]:
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("cveID"), str)
            and entry["cveID"].upper().startswith("CVE-")
        ):
            out.append(entry["cveID"].upper())
    return sorted(set(out))


def poll(ctx: Context) -> int:
    """Fetch the catalogue if it changed; the number of additions queued."""
    url = ctx.fleet.feeds.kev
    if not url:
        return 0
    etag = ctx.state.cursor("kev/etag") or ""
    old_raw = ctx.state.cursor("kev")
    with tempfile.TemporaryDirectory(prefix="mamori-watch-kev-") as tmp:
        dest = Path(tmp) / "kev.json"
        response = fetch_to(ctx.http, url, dest, {"If-None-Match": etag} if etag and old_raw else None)
        if response is None:
            return 0
        try:  # served by a feed: the shared safe loader (size, depth, density capped)
            doc = _safejson.load(dest, "kev.json")
        except ParseError as exc:
            ctx.log(f"kev: {redact(url)} is not usable JSON ({exc.message}); kept the previous catalogue")
            return 0
        cves = _cves(doc)
        if cves is None:
            ctx.log(f"kev: {redact(url)} is not a KEV catalogue (no vulnerabilities with cveID); ignored")
            return 0
        summary = ctx.store.import_paths([dest])
        for e in summary.errors:
            ctx.log(f"kev: {e.path}: {e.message}")
    checkpoint("kev-imported")
    old = set(json.loads(old_raw)) if old_raw is not None else None  # mamori's own cursor: trusted
    added = sorted(set(cves) - old) if old is not None else []
    seen = time.time()
    with ctx.state.transaction():
        for cve in added:
            ctx.state.mark(f"kev|{cve}", "seen", seen)
            ctx.state.enqueue(f"kev:{cve}", "kev", {"cve": cve, "seen": seen})
        ctx.state.set_cursor("kev", json.dumps(cves))
        ctx.state.set_cursor("kev/etag", response.headers.get("ETag", ""))
    if old is None:
        ctx.log(f"kev: baseline catalogue of {count(len(cves), 'CVE')}")
    elif added:
        ctx.log(f"kev: {count(len(added), 'addition')}: {', '.join(added[:10])}")
    return len(added)
