"""The operator's side of the hub's organisations, and the dashboard's sessions.

``mamori hub list | rotate-token ORG | revoke ORG`` call :func:`list_orgs`, :func:`rotate_token`
and :func:`revoke`. Rotating gives a new token and ends every old token and session of the
organisation; revoking ends them all and gives none (``rotate-token`` brings it back). A server
running in another process forgets a cached token within
:data:`~mamori.share._hub.AUTH_CACHE_SECONDS`; sessions are checked on every request.

A dashboard session is a random 256-bit id in an ``HttpOnly``, ``SameSite=Strict`` cookie; the
hub keeps its SHA-256, its organisation, and when it expires (:data:`SESSION_SECONDS` after the
login). Logging out revokes it; so do rotating and revoking the organisation's tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from mamori.errors import InputError
from mamori.share import _db
from mamori.share._hub import Hub, Org, hash_token, now_us

SESSION_SECONDS = 8 * 3600
"""How long a dashboard login lasts (a working day), unless ``MAMORI_HUB_SESSION_HOURS`` says."""


def session_seconds() -> int:
    """The configured session lifetime in seconds."""
    raw = os.environ.get("MAMORI_HUB_SESSION_HOURS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw) * 3600
    return SESSION_SECONDS


@dataclass(frozen=True, slots=True)
class OrgInfo:
    """One organisation as ``mamori hub list`` shows it (never a token)."""

    name: str
    sector: str
    roles: dict[str, str]
    tokens: int
    sessions: int
    revoked: bool
    anonymous: bool
    created: int

    def as_json(self) -> dict[str, object]:
        """The JSON of ``hub list --format json``."""
        from mamori.share._hub import format_timestamp

        return {
            "name": self.name,
            "sector": self.sector,
            "roles": dict(sorted(self.roles.items())),
            "active_tokens": self.tokens,
            "active_sessions": self.sessions,
            "status": "revoked" if self.revoked else "active",
            "shares_anonymously": self.anonymous,
            "created": format_timestamp(self.created),
        }


def list_orgs(hub: Hub) -> list[OrgInfo]:
    """Every organisation of the hub with its roles and how many tokens and sessions are live."""
    g, t, s, c, gr = _db.orgs.c, _db.tokens.c, _db.sessions.c, _db.collections.c, _db.grants.c
    now = now_us()
    with hub.engine.connect() as conn:
        orgs = conn.execute(select(g.id, g.name, g.sector, g.created).order_by(g.name)).all()
        tokens: dict[int, int] = dict(conn.execute(select(t.org_id, func.count()).group_by(t.org_id)).all())
        sessions: dict[int, int] = dict(
            conn.execute(
                select(s.org_id, func.count()).where(s.revoked.is_(False), s.expires > now).group_by(s.org_id)
            ).all()
        )
        roles: dict[int, dict[str, str]] = {}
        for org_id, alias, role in conn.execute(
            select(gr.org_id, c.alias, gr.role).join(_db.collections, c.id == gr.collection_id)
        ):
            roles.setdefault(int(org_id), {})[str(alias)] = str(role)
        revoked = set(conn.execute(select(_db.revoked_orgs.c.org_id)).scalars())
        anonymous = set(conn.execute(select(_db.anonymous_orgs.c.org_id)).scalars())
    return [
        OrgInfo(
            str(o.name),
            str(o.sector),
            roles.get(int(o.id), {}),
            int(tokens.get(o.id, 0)),
            int(sessions.get(o.id, 0)),
            int(o.id) in revoked,
            int(o.id) in anonymous,
            int(o.created),
        )
        for o in orgs
    ]


def _org_id(conn: object, name: str) -> int:
    org_id = conn.execute(select(_db.orgs.c.id).where(_db.orgs.c.name == name)).scalar()  # type: ignore[attr-defined]
    if org_id is None:
        raise InputError(f"no organisation {name!r} on this hub (see `mamori hub list`)")
    return int(org_id)


def _end_credentials(conn: object, org_id: int) -> None:
    conn.execute(delete(_db.tokens).where(_db.tokens.c.org_id == org_id))  # type: ignore[attr-defined]
    conn.execute(  # type: ignore[attr-defined]
        update(_db.sessions).where(_db.sessions.c.org_id == org_id).values(revoked=True)
    )


def rotate_token(hub: Hub, name: str) -> str:
    """A new API token for ``name``; every older token and session of it stops working."""
    token = secrets.token_urlsafe(32)
    with hub.write() as conn:
        org_id = _org_id(conn, name)
        _end_credentials(conn, org_id)
        conn.execute(delete(_db.revoked_orgs).where(_db.revoked_orgs.c.org_id == org_id))
        conn.execute(insert(_db.tokens).values(org_id=org_id, token_hash=hash_token(token), created=now_us()))
        hub.audit_in(conn, "(operator)", "rotate-token", "", json.dumps({"org": name}))
    hub.forget_credentials()
    return token


def revoke(hub: Hub, name: str) -> None:
    """End every token and session of ``name`` (its objects stay; ``rotate-token`` re-admits it)."""
    with hub.write() as conn:
        org_id = _org_id(conn, name)
        _end_credentials(conn, org_id)
        if (
            conn.execute(
                select(_db.revoked_orgs.c.org_id).where(_db.revoked_orgs.c.org_id == org_id)
            ).scalar()
            is None
        ):
            conn.execute(insert(_db.revoked_orgs).values(org_id=org_id, at=now_us()))
        hub.audit_in(conn, "(operator)", "revoke", "", json.dumps({"org": name}))
    hub.forget_credentials()


def create_session(hub: Hub, org: Org) -> str:
    """A new session of ``org``; returns the cookie value (only its hash is kept)."""
    sid = secrets.token_urlsafe(32)
    now = now_us()
    with hub.write() as conn:
        conn.execute(
            insert(_db.sessions).values(
                id_hash=hash_token(sid),
                org_id=org.id,
                created=now,
                expires=now + session_seconds() * 1_000_000,
                revoked=False,
            )
        )
        # expired sessions are of no use to anyone: keep the table small
        conn.execute(delete(_db.sessions).where(_db.sessions.c.expires < now - 86_400_000_000))
        hub.audit_in(conn, org.name, "login", "", "")
    return sid


def session_org(hub: Hub, sid: str) -> Org | None:
    """The organisation of a live session cookie, or None (unknown, expired, revoked)."""
    if not sid or len(sid) > 200:
        return None
    s, g = _db.sessions.c, _db.orgs.c
    with hub.engine.connect() as conn:
        row = conn.execute(
            select(g.id, g.name, g.sector)
            .join(_db.sessions, s.org_id == g.id)
            .where(s.id_hash == hash_token(sid), s.revoked.is_(False), s.expires > now_us())
        ).first()
    return None if row is None else Org(int(row.id), str(row.name), str(row.sector))


def end_session(hub: Hub, sid: str) -> None:
    """Revoke one session (logout)."""
    if not sid or len(sid) > 200:
        return
    with hub.write() as conn:
        conn.execute(
            update(_db.sessions).where(_db.sessions.c.id_hash == hash_token(sid)).values(revoked=True)
        )


def authenticate_header(hub: Hub, header: str) -> tuple[Org | None, str]:
    """The organisation of an ``Authorization`` header (Bearer, or HTTP Basic with the
    organisation's name as user) and who to name in the audit log when it is refused.

    Anything malformed (bad base64, not UTF-8, not ASCII, no ``:``) is simply not a credential."""
    scheme, _, value = header.partition(" ")
    who = "(anonymous)"
    if scheme.lower() == "bearer":
        return hub.authenticate(value.strip()), who
    if scheme.lower() == "basic":
        try:
            user, sep, password = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None, who
        if not sep:
            return None, who
        return hub.authenticate(password, user), (user[:200] or who)
    return None, who
