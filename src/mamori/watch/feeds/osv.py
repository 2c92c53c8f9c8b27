"""OSV, polled incrementally: ``{base}/{ecosystem}/modified_id.csv``, then only the changed records.

osv.dev publishes, per ecosystem, ``modified_id.csv``: one ``<modified>,<id>`` line per
advisory, newest first, beside each record as ``<id>.json`` and the whole ecosystem as
``all.zip``. The feed reads the index only down to its cursor (the newest ``modified`` seen,
with the ids seen at that instant) and stops there, fetches each changed record, imports them
into the advisory database, and queues one ``advisory`` job per record.

The first poll of an ecosystem the database does not hold downloads its ``all.zip`` once
(through :meth:`AdvisoryStore.update`); one the database holds starts from when it was loaded
(less an hour, so nothing modified during that download is missed).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from mamori import _safejson
from mamori._text import count
from mamori.advisories.osv import MAX_DOCUMENT_BYTES, parse_timestamp
from mamori.errors import ParseError
from mamori.watch._crash import checkpoint
from mamori.watch._redact import redact
from mamori.watch.context import Context
from mamori.watch.feeds._http import fetch_to, stream

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,200}$")


MAX_SINGLE_FETCHES = 1000
"""More changed records than this (a database weeks old) reload the ecosystem's all.zip once
instead of fetching each record."""


def _reload(ctx: Context, eco: str, changes: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Load ``all.zip`` of one ecosystem; the changed records as the database now holds them."""
    ctx.log(
        f"osv {eco}: {count(len(changes), 'changed record')}; reloading {eco}/all.zip instead of fetching each"
    )
    base = ctx.fleet.feeds.osv
    ctx.store.update([eco], osv_url_template=f"{base}/{{ecosystem}}/all.zip", kev_url="", epss_url="")
    records = []
    for modified, advisory in changes:
        held = ctx.store.get(advisory)
        if held is not None:
            records.append(
                {"id": advisory, "modified": modified, "published": held.published, "ecosystem": eco}
            )
    return records


def _cursor(ctx: Context, eco: str) -> tuple[str, set[str]] | None:
    raw = ctx.state.cursor(f"osv/{eco}")
    if raw is None:
        return None
    data = json.loads(raw)  # a cursor mamori itself wrote into its state database: trusted
    return str(data["modified"]), set(data.get("ids", []))


def _baseline(ctx: Context, eco: str) -> tuple[str, set[str]]:
    """Where an ecosystem's first poll starts: when the database last loaded it, less an hour."""
    loaded = (
        next((s.updated for s in ctx.store.status().sources if s.source == f"osv/{eco}" and s.updated), None)
        if ctx.store.exists
        else None
    )
    if loaded is None:
        base = ctx.fleet.feeds.osv
        ctx.log(f"osv {eco}: no advisories of {eco} in the database yet; downloading {eco}/all.zip once")
        started = time.time()
        ctx.store.update([eco], osv_url_template=f"{base}/{{ecosystem}}/all.zip", kev_url="", epss_url="")
        ctx.log(f"osv {eco}: loaded in {time.time() - started:.1f}s")
        loaded = next(s.updated for s in ctx.store.status().sources if s.source == f"osv/{eco}" and s.updated)
    start = loaded - timedelta(hours=1)
    return start.isoformat().replace("+00:00", "Z"), set()


def parse_index_line(line: str) -> tuple[str, datetime, str] | None:
    """``<modified>,<id>`` → (modified as written, as a time, id); None for anything else."""
    modified, sep, advisory = line.strip().partition(",")
    if not sep:
        return None
    try:
        when = parse_timestamp(modified)
    except (ValueError, OverflowError):
        return None
    advisory = advisory.strip()
    if when is None or not _ID.match(advisory):
        return None
    return modified.strip(), when, advisory


def changed_ids(ctx: Context, eco: str, since: tuple[str, set[str]]) -> list[tuple[str, str]]:
    """(modified, id) of the index lines after the cursor, newest first; reading stops at the cursor."""
    url = f"{ctx.fleet.feeds.osv}/{quote(eco, safe='')}/modified_id.csv"
    cutoff = parse_timestamp(since[0])
    out: list[tuple[str, str]] = []
    with stream(ctx.http, url) as response:
        if response.status_code == 404:
            ctx.log(f"osv {eco}: {redact(url)} not found; check [feeds] osv in watch.toml")
            return []
        for number, line in enumerate(response.iter_lines(), 1):
            line = line.strip()
            if not line:
                continue
            parsed = parse_index_line(line)
            if parsed is None:
                ctx.log(f"osv {eco}: {redact(url)}:{number}: not a '<modified>,<id>' line; skipped")
                continue
            modified, when, advisory = parsed
            if cutoff is not None and when < cutoff:
                break  # newest first: everything below was seen
            if cutoff is not None and when == cutoff and advisory in since[1]:
                continue
            out.append((modified, advisory))
    return out


def poll(ctx: Context, ecosystems: list[str]) -> int:
    """Poll OSV for each ecosystem of the fleet; the number of advisory jobs queued."""
    queued = 0
    for eco in ecosystems:
        since = _cursor(ctx, eco) or _baseline(ctx, eco)
        changes = changed_ids(ctx, eco, since)
        if not changes:
            if ctx.state.cursor(f"osv/{eco}") is None:
                ctx.state.set_cursor(
                    f"osv/{eco}", json.dumps({"modified": since[0], "ids": sorted(since[1])})
                )
            continue
        seen = time.time()
        records: list[dict[str, str]] = []
        if len(changes) > MAX_SINGLE_FETCHES:
            records = _reload(ctx, eco, changes)
            changes_to_fetch: list[tuple[str, str]] = []
        else:
            changes_to_fetch = changes
        with tempfile.TemporaryDirectory(prefix="mamori-watch-osv-") as tmp:
            files: list[Path] = []
            for modified, advisory in changes_to_fetch:
                dest = Path(tmp) / f"{advisory}.json"
                got = fetch_to(
                    ctx.http, f"{ctx.fleet.feeds.osv}/{quote(eco, safe='')}/{quote(advisory)}.json", dest
                )
                if got is None:
                    ctx.log(f"osv {eco}: {advisory} is listed but not served; skipped")
                    continue
                try:  # served by a feed: the shared safe loader (size, depth, density capped)
                    doc = _safejson.load(dest, f"{advisory}.json", max_bytes=MAX_DOCUMENT_BYTES)
                except ParseError as exc:
                    ctx.log(f"osv {eco}: {advisory}.json is not usable JSON ({exc.message}); skipped")
                    continue
                if not isinstance(doc, dict) or doc.get("id") != advisory:
                    ctx.log(f"osv {eco}: {advisory}.json holds another record; skipped")
                    continue
                files.append(dest)
                records.append(
                    {
                        "id": advisory,
                        "modified": modified,
                        "published": str(doc.get("published", "")),
                        "ecosystem": eco,
                    }
                )
            if files:
                summary = ctx.store.import_paths(files)
                for e in summary.errors:
                    ctx.log(f"osv {eco}: {e.path}: {e.message}")
        checkpoint("osv-imported")
        newest = changes[0][0]
        at_newest = {a for m, a in changes if m == newest}
        old = _cursor(ctx, eco)
        if old is not None and parse_timestamp(old[0]) == parse_timestamp(newest):
            at_newest |= old[1]
        with ctx.state.transaction():
            for rec in records:
                published = parse_timestamp(rec["published"]) if rec["published"] else None
                subject = f"adv|{rec['id']}"
                if published is not None:
                    ctx.state.mark(subject, "published", published.timestamp())
                ctx.state.mark(subject, "seen", seen)
                if ctx.state.enqueue(
                    f"advisory:{rec['id']}:{rec['modified']}", "advisory", {**rec, "seen": seen}
                ):
                    queued += 1
            ctx.state.set_cursor(f"osv/{eco}", json.dumps({"modified": newest, "ids": sorted(at_newest)}))
        checkpoint("osv-queued")
        ctx.log(f"osv {eco}: {count(len(changes), 'changed record')} fetched, {len(records)} imported")
    return queued
