"""The sharing commands: ``mamori serve``, ``mamori hub add-org``, ``mamori share push|pull``.

Plain functions with typer annotations; :mod:`mamori.cli` registers them. They print for the
user and raise :class:`~mamori.errors.InputError` (exit 2) or
:class:`~mamori.errors.ResourceUnavailable` (exit 3); the CLI maps those to exit codes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mamori._text import count
from mamori.errors import InputError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mamori.share._client import Credentials


_DB_HELP = (
    "Hub database URL: sqlite:///PATH or postgresql://USER@HOST/DB (default: hub.sqlite under MAMORI_HOME)."
)
_TOKEN_HELP = "API token of your organisation on the hub (or set MAMORI_TOKEN)."
_USER_HELP = "Send the token with HTTP Basic as this organisation name (default: Bearer)."


_WORKER_DATABASE = "MAMORI_HUB_WORKER_DATABASE"
"""How ``mamori serve`` tells its worker processes the database URL."""


def worker_app() -> FastAPI:
    """The application of one server worker process (uvicorn's factory when ``--workers`` > 1)."""
    import atexit
    import os

    from mamori.share._hub import Hub
    from mamori.share._server import create_app

    hub = Hub.open(os.environ[_WORKER_DATABASE], create=False)
    atexit.register(hub.close)  # writes the buffered audit records when the worker stops
    return create_app(hub)


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    database: Annotated[str | None, typer.Option("--database", help=_DB_HELP)] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes (default: 2 with PostgreSQL, 1 with SQLite, whose one writer "
            "gains nothing from more).",
        ),
    ] = None,
) -> None:
    """Run the sharing hub: TAXII 2.1 under /taxii2/, REST API under /api/.

    Collections: one per sector and a cross-sector one. TLP 2.0 is enforced on every read.
    Register organisations with `mamori hub add-org`. The web dashboard is at /, and /metrics
    gives Prometheus the watch's latencies per sector (an admin organisation's token).
    """
    import os

    import uvicorn

    from mamori.share._hub import Hub
    from mamori.share._server import create_app

    hub = Hub.open(database)
    url = hub.engine.url
    count = workers or (2 if url.get_backend_name() == "postgresql" else 1)
    typer.echo(
        f"mamori hub on http://{host}:{port}/taxii2/ ({url.render_as_string(hide_password=True)}, "
        f"{count} worker{'s' if count > 1 else ''})",
        err=True,
    )
    if count > 1:
        hub.close()
        os.environ[_WORKER_DATABASE] = url.render_as_string(hide_password=False)
        uvicorn.run(
            "mamori.share.command:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=count,
            log_level="warning",
            access_log=False,
        )
        return
    try:
        uvicorn.run(create_app(hub), host=host, port=port, log_level="warning", access_log=False)
    finally:
        hub.close()


def hub_add_org_command(
    name: Annotated[str, typer.Argument(help="The organisation's name (its user name for HTTP Basic).")],
    sector: Annotated[
        str, typer.Option("--sector", help="Its sector, e.g. finance, electric-power, medical.")
    ],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="reader, writer or admin on its sector's and the cross-sector collection."
        ),
    ] = "writer",
    database: Annotated[str | None, typer.Option("--database", help=_DB_HELP)] = None,
) -> None:
    """Register an organisation; prints its new API token as the last line (shown once)."""
    from mamori.share._hub import Hub

    hub = Hub.open(database)
    try:
        token = hub.add_org(name, sector.strip().lower(), role.strip().lower())
    finally:
        hub.close()
    typer.echo(f"added {name!r} to sector {sector} as {role} (its sector's collection and cross-sector)")
    typer.echo("its API token (shown once; send it as 'Authorization: Bearer TOKEN'):")
    typer.echo(token)


def _read_input(file: str) -> tuple[str, str]:
    if file == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(file)
    if not path.is_file():
        raise InputError("no such file", path=file)
    try:
        return path.read_text(encoding="utf-8"), file
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=file) from exc


def _credentials(token: str | None, user: str | None) -> Credentials:
    from mamori.share._client import Credentials

    if not token:
        raise InputError("no API token: pass --token or set MAMORI_TOKEN (from `mamori hub add-org`)")
    return Credentials(token, user)


def _formatted(fmt: str) -> str:
    value = fmt.strip().lower()
    if value not in ("text", "json"):
        raise InputError(f"--format {fmt!r}: choose text or json")
    return value


_FORMAT_HELP = "text (readable) or json."


def share_push_command(
    file: Annotated[
        str,
        typer.Argument(help="A mamori JSON report, detect alerts (JSONL), or a STIX bundle; '-' for stdin."),
    ],
    server: Annotated[str, typer.Option("--server", help="The hub's URL, e.g. http://127.0.0.1:8000.")],
    collection: Annotated[str, typer.Option("--collection", help="Collection id, title or sector name.")],
    tlp: Annotated[str, typer.Option("--tlp", help="clear, green, amber, amber+strict or red.")] = "amber",
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="Recipient organisation of AMBER or RED objects (repeatable; the hub refuses names "
            "it does not know). Without it, AMBER to a sector's collection is for that sector's "
            "members; AMBER and RED to cross-sector need it.",
        ),
    ] = None,
    anonymise: Annotated[
        bool,
        typer.Option(
            "--anonymise",
            help="Drop host and user names, internal paths, private addresses; ids from a random "
            "namespace kept in MAMORI_HOME; the hub names you to no other organisation.",
        ),
    ] = False,
    token: Annotated[str | None, typer.Option("--token", envvar="MAMORI_TOKEN", help=_TOKEN_HELP)] = None,
    user: Annotated[str | None, typer.Option("--user", envvar="MAMORI_USER", help=_USER_HELP)] = None,
    producer: Annotated[
        str | None,
        typer.Option(
            "--producer", help="The name the bundle's identity gives (default: --user, else 'mamori user')."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "text",
) -> None:
    """Share scan findings or detect alerts with the hub as STIX 2.1, marked with a TLP.

    Prints what the hub accepted (text, or with --format json the TAXII status: id, total,
    success and failure counts, and each failure's id and message)."""
    from mamori.share._client import TaxiiClient
    from mamori.share._local import anonymise_namespace
    from mamori.share.sectors import CROSS_SECTOR
    from mamori.share.stix import ShareOptions, address_to_sector, to_stix, validate_bundle
    from mamori.share.tlp import Tlp, parse_tlp

    out_format = _formatted(fmt)
    try:
        level = parse_tlp(tlp)
    except ValueError as exc:
        raise InputError(f"--tlp {tlp!r}: choose clear, green, amber, amber+strict or red") from exc
    recipients = tuple(dict.fromkeys(to or ()))
    if recipients and level not in (Tlp.AMBER, Tlp.RED):
        raise InputError(
            f"--to names recipients of AMBER and RED objects; TLP:{level.value.upper()} has none"
        )
    creds = _credentials(token, user)
    text, source = _read_input(file)
    options = ShareOptions(
        tlp=level,
        recipients=recipients,
        anonymise=anonymise,
        producer=producer or user or "mamori user",
        namespace=anonymise_namespace() if anonymise else None,
    )
    bundle = to_stix(text, options, source=source)
    problems = validate_bundle(bundle)
    if problems:
        raise InputError("the STIX bundle does not validate: " + "; ".join(problems[:5]), path=source)
    with TaxiiClient(server, creds) as client:
        target = client.collection(collection)
        sector = target.get("alias") if isinstance(target.get("alias"), str) else None
        if level in (Tlp.AMBER, Tlp.RED) and not recipients:
            if sector == CROSS_SECTOR:
                raise InputError(
                    f"TLP:{level.value.upper()} on the cross-sector collection has no audience: "
                    "name its recipients with --to ORG (repeatable)"
                )
            if level is Tlp.AMBER and sector:
                bundle = address_to_sector(bundle, sector)
        status = client.push(collection, bundle["objects"], anonymise=anonymise)
    failures = status.get("failures") or []
    unknown = [f for f in failures if "unknown recipient" in str(f.get("message", ""))]
    if unknown and len(unknown) == len(failures):
        raise InputError(f"--to: {unknown[0].get('message')} (the hub stored nothing)")
    if out_format == "json":
        typer.echo(
            json.dumps(
                {
                    "collection": collection,
                    "tlp": level.value,
                    "status": status.get("id", ""),
                    "total": status.get("total_count", 0),
                    "success": status.get("success_count", 0),
                    "failure": status.get("failure_count", len(failures)),
                    "successes": status.get("successes") or [],
                    "failures": [{"id": f.get("id"), "message": f.get("message")} for f in failures],
                },
                indent=2,
            )
        )
    else:
        audience = ", ".join(recipients) or (f"sector {sector}" if level is Tlp.AMBER and sector else "")
        typer.echo(
            f"pushed {status.get('success_count', 0)} of {count(status.get('total_count', 0), 'object')} "
            f"to {collection} as TLP:{level.value.upper()}"
            + (f" for {audience}" if audience else "")
            + f" (status {status.get('id', '?')})"
        )
    if failures:
        more = int(status.get("failure_count", len(failures))) - min(len(failures), 5)
        raise InputError(
            "the hub refused: "
            + "; ".join(f"{f.get('id')}: {f.get('message')}" for f in failures[:5])
            + (f" (and {more} more)" if more > 0 else "")
        )


def share_pull_command(
    server: Annotated[str, typer.Option("--server", help="The hub's URL, e.g. http://127.0.0.1:8000.")],
    collection: Annotated[str, typer.Option("--collection", help="Collection id, title or sector name.")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only objects added after this time (default: since the last pull)."),
    ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="MAMORI_TOKEN", help=_TOKEN_HELP)] = None,
    user: Annotated[str | None, typer.Option("--user", envvar="MAMORI_USER", help=_USER_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "text",
) -> None:
    """Import peers' objects; their indicators become detection rules for `mamori detect`.

    Prints how many objects came, how many were new and how many detection rules peers'
    indicators now give (text, or with --format json: received, new, detection_rules)."""
    from mamori.share._client import TaxiiClient
    from mamori.share._hub import format_timestamp, parse_timestamp
    from mamori.share._local import MAX_PEER_PATTERN_CHARS, LocalStore, local_indicators

    out_format = _formatted(fmt)
    creds = _credentials(token, user)
    after = None
    if since is not None:
        from datetime import UTC, datetime

        try:
            dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"--since {since!r} is not an ISO 8601 time") from exc
        dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        after = format_timestamp(int(dt.timestamp() * 1_000_000))
    store = LocalStore()
    refused: list[str] = []
    try:
        key = server.rstrip("/")
        after = after or store.cursor(key, collection)
        total = new = 0
        with TaxiiClient(server, creds) as client:
            for objs, last in client.pages(collection, added_after=after):
                total += len(objs)
                new += store.add(objs, server=key, collection=collection, refused=refused)
                if last and parse_timestamp(last) is not None:
                    store.set_cursor(key, collection, last)
        rules = len(local_indicators(store))
    finally:
        store.close()
    if out_format == "json":
        typer.echo(
            json.dumps({"received": total, "new": new, "detection_rules": rules, "refused": len(refused)})
        )
        return
    typer.echo(
        f"received {total:,} object{'' if total == 1 else 's'} from {collection} ({new:,} new); "
        f"peers' indicators give {rules:,} detection rule{'' if rules == 1 else 's'} for `mamori detect`"
    )
    if refused:
        typer.echo(
            f"refused {count(len(refused), 'indicator')} with a pattern over {MAX_PEER_PATTERN_CHARS:,} characters "
            f"(not stored): {', '.join(refused[:3])}",
            err=True,
        )


def hub_list_command(
    database: Annotated[str | None, typer.Option("--database", help=_DB_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "text",
) -> None:
    """List the hub's organisations: sector, roles, live tokens and sessions (never a token)."""
    from mamori.share._hub import Hub
    from mamori.share._orgs import list_orgs

    out_format = _formatted(fmt)
    hub = Hub.open(database)
    try:
        orgs = list_orgs(hub)
    finally:
        hub.close()
    if out_format == "json":
        typer.echo(json.dumps({"organisations": [o.as_json() for o in orgs]}, indent=2))
        return
    if not orgs:
        typer.echo("no organisations yet: add one with `mamori hub add-org NAME --sector SECTOR`")
        return
    for o in orgs:
        info = o.as_json()
        roles = ", ".join(f"{alias}: {role}" for alias, role in sorted(o.roles.items())) or "no roles"
        flags = [str(info["status"])] + (["shares anonymously"] if o.anonymous else [])
        typer.echo(
            f"{o.name} ({o.sector}) - {', '.join(flags)}; {roles}; "
            f"{o.tokens} token{'s' if o.tokens != 1 else ''}, "
            f"{o.sessions} session{'s' if o.sessions != 1 else ''}; since {info['created']}"
        )


def hub_rotate_token_command(
    name: Annotated[str, typer.Argument(help="The organisation whose token to replace.")],
    database: Annotated[str | None, typer.Option("--database", help=_DB_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "text",
) -> None:
    """Give an organisation a new API token; its older tokens and sessions stop working."""
    from mamori.share._hub import Hub
    from mamori.share._orgs import rotate_token

    out_format = _formatted(fmt)
    hub = Hub.open(database)
    try:
        token = rotate_token(hub, name)
    finally:
        hub.close()
    if out_format == "json":
        typer.echo(json.dumps({"organisation": name, "token": token}))
        return
    typer.echo(f"new token for {name!r}; its older tokens and dashboard sessions no longer work")
    typer.echo("its API token (shown once; send it as 'Authorization: Bearer TOKEN'):")
    typer.echo(token)


def hub_revoke_command(
    name: Annotated[str, typer.Argument(help="The organisation to shut out.")],
    database: Annotated[str | None, typer.Option("--database", help=_DB_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "text",
) -> None:
    """End every token and session of an organisation (its objects stay; rotate-token re-admits it)."""
    from mamori.share._hub import Hub
    from mamori.share._orgs import revoke

    out_format = _formatted(fmt)
    hub = Hub.open(database)
    try:
        revoke(hub, name)
    finally:
        hub.close()
    if out_format == "json":
        typer.echo(json.dumps({"organisation": name, "status": "revoked"}))
        return
    typer.echo(
        f"revoked {name!r}: its tokens and sessions no longer work (`mamori hub rotate-token` re-admits it)"
    )
