"""The sector hub (TAXII 2.1): peers' vulnerabilities raise priority, peers' indicators detect.

Each cycle pulls the collection named in ``[hub]`` of the fleet file exactly as
``mamori share pull`` does (the share stage's client and local store, from its last cursor):
the indicators become detection rules for ``mamori detect`` through that store, and every
project with a finding whose id a peer newly reported gets an ``evaluate`` job — prioritisation
ranks a finding peers shared higher within its decision, and says so.
"""

from __future__ import annotations

from mamori._text import count
from mamori.watch.context import Context


def poll(ctx: Context) -> int:
    """Pull new objects; the number of projects queued for re-ranking."""
    hub = ctx.fleet.hub
    if not hub.url:
        return 0
    from mamori.share import peer_vulnerabilities
    from mamori.share._client import Credentials, TaxiiClient
    from mamori.share._hub import parse_timestamp
    from mamori.share._local import LocalStore

    token = hub.token()
    if not token:
        ctx.log(f"hub: no token in ${hub.token_env}; the hub is not polled")
        return 0
    store = LocalStore()
    try:
        before = set(peer_vulnerabilities())
        key = hub.url.rstrip("/")
        after = store.cursor(key, hub.collection)
        received = new = 0
        with TaxiiClient(hub.url, Credentials(token, hub.user or None)) as client:
            for objs, last in client.pages(hub.collection, added_after=after):
                received += len(objs)
                new += store.add(objs, server=key, collection=hub.collection)
                if last and parse_timestamp(last) is not None:
                    store.set_cursor(key, hub.collection, last)
        fresh = sorted(set(peer_vulnerabilities()) - before)
    finally:
        store.close()
    projects = ctx.state.projects_with_ids(fresh)
    with ctx.state.transaction():
        for name in projects:
            ctx.state.enqueue(
                f"evaluate:{name}:hub:{','.join(fresh)[:300]}", "evaluate", {"project": name, "reason": "hub"}
            )
    if received:
        ctx.log(
            f"hub: {count(new, 'new object')} of {received}; {count(len(fresh), 'vulnerability id')} newly reported by peers"
            + (f"; re-ranked {', '.join(projects)}" if projects else "")
        )
    return len(projects)
