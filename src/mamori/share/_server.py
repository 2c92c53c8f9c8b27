"""The hub over HTTP: TAXII 2.1 under ``/taxii2/`` and a small REST API under ``/api/``.

This module only translates HTTP to :class:`mamori.share._hub.Hub` calls and back: media types,
authentication headers, query filters, error message resources. Every rule (roles, TLP,
pagination tokens) lives in the hub, so a route cannot forget one. Errors are TAXII error
message resources with the status the standard names: 400 bad filters or a bad ``next``,
401 no or bad credentials, 403 no role, 404 not found (including objects the reader's TLP
does not cover), 406 an Accept the server cannot serve, 413 a body over its cap (answered by
:class:`~mamori.share._limits.BodyLimit` before more is read, with or without Content-Length) or
an envelope of more than :data:`~mamori.share._limits.MAX_ENVELOPE_OBJECTS` objects or a body
of more than :data:`~mamori.share._limits.MAX_JSON_VALUES` JSON values, 415 a
Content-Type that is not TAXII 2.1, 422 a body that is not an envelope. JSON too deep to parse
is a 400. Credentials that are not ASCII (or not UTF-8 in HTTP Basic) are simply wrong: 401.

A push made with ``share push --anonymise`` says so in the ``X-Mamori-Anonymise: 1`` header:
from then on the hub names that organisation to no other one (dashboard, sharing figures).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamori import __version__
from mamori.dashboard import create_router
from mamori.share._hub import Filters, Hub, Org, Page, TaxiiError, format_timestamp, parse_timestamp
from mamori.share._limits import (
    MAX_ENVELOPE_OBJECTS,
    TAXII_BODY_BYTES,
    BodyLimit,
    TooManyValues,
    loads_bounded,
    read_body,
)
from mamori.share._orgs import authenticate_header

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
"""The one media type of TAXII 2.1 responses and POST bodies."""
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
"""The media type of the STIX objects the hub stores."""
API_ROOT = "hub"
"""The name of the hub's one API root (``/taxii2/hub/``)."""
MAX_CONTENT_LENGTH = TAXII_BODY_BYTES
"""The largest POST body accepted (advertised in the API root)."""
ANONYMISE_HEADER = "x-mamori-anonymise"
"""The request header of an anonymised push."""


class TaxiiResponse(Response):
    """A response with the TAXII 2.1 media type."""

    media_type = TAXII_MEDIA_TYPE


def _error(status: int, title: str, description: str = "") -> TaxiiResponse:
    body = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    headers = {"WWW-Authenticate": 'Bearer realm="mamori", Basic realm="mamori"'} if status == 401 else None
    return TaxiiResponse(json.dumps(body), status_code=status, headers=headers)


def _media(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";")]
    params: dict[str, str] = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


def _accepts_taxii(accept: str | None) -> bool:
    if not accept:
        return True
    for item in accept.split(","):
        mtype, params = _media(item)
        if mtype in ("*/*", "application/*"):
            return True
        if mtype == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def _is_taxii_body(content_type: str | None) -> bool:
    if not content_type:
        return False
    mtype, params = _media(content_type)
    return mtype == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def _split(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def filters_from(
    request: Request, *, default_version: str = "last"
) -> tuple[Filters, int | None, str | None]:
    """The TAXII filters, ``limit`` and ``next`` of a request; bad values are TAXII 400 errors."""
    q = request.query_params
    added_after = None
    if "added_after" in q:
        added_after = parse_timestamp(q["added_after"])
        if added_after is None:
            raise TaxiiError(400, "Bad filter", f"added_after {q['added_after']!r} is not a timestamp")
    limit = None
    if "limit" in q:
        try:
            limit = int(q["limit"])
        except ValueError:
            limit = -1
        if limit < 1:
            raise TaxiiError(400, "Bad filter", "limit must be a positive integer")
    versions = _split(q.get("match[version]")) or (default_version,)
    for v in versions:
        if v not in ("all", "last", "first") and parse_timestamp(v) is None:
            raise TaxiiError(
                400, "Bad filter", f"match[version] {v!r} is not all, last, first or a timestamp"
            )
    nxt = q.get("next")
    return (
        Filters(
            added_after=added_after,
            ids=_split(q.get("match[id]")),
            types=_split(q.get("match[type]")),
            versions=versions,
            spec_versions=_split(q.get("match[spec_version]")),
        ),
        limit,
        nxt if nxt else None,
    )


def _page_headers(page: Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_timestamp(page.first_added or 0),
        "X-TAXII-Date-Added-Last": format_timestamp(page.last_added or 0),
    }


def _envelope(page: Page) -> str:
    head = '{"more":' + ("true" if page.more else "false")
    if page.next:
        head += ',"next":' + json.dumps(page.next)
    return head + ',"objects":[' + ",".join(r.body for r in page.rows) + "]}"


def create_app(hub: Hub, *, title: str = "mamori hub", results: Path | None = None) -> FastAPI:
    """The ASGI application of ``hub`` (run it with uvicorn, as ``mamori serve`` does).

    ``results``: the results database the dashboard shows (default: under ``MAMORI_HOME``).
    """
    app = FastAPI(title=title, version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit)

    @app.exception_handler(TaxiiError)
    async def _taxii_error(_request: Request, exc: TaxiiError) -> Response:
        return _error(exc.status, exc.title, exc.description)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        return _error(
            exc.status_code, "Not found" if exc.status_code == 404 else str(exc.detail), str(exc.detail)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return _error(400, "Bad request", str(exc.errors())[:500])

    def _authenticate(request: Request) -> Org:
        org, who = authenticate_header(hub, request.headers.get("authorization", ""))
        if org is None:
            hub.audit_denied(who, "auth-failed", "", request.url.path)
            raise TaxiiError(401, "Unauthorized", "send an API token: Authorization: Bearer TOKEN")
        return org

    def _prepare(request: Request) -> Org:
        if not _accepts_taxii(request.headers.get("accept")):
            raise TaxiiError(406, "Not acceptable", f"this server speaks {TAXII_MEDIA_TYPE}")
        return _authenticate(request)

    def _collection(org: Org, ident: str, *, write: bool = False, check: bool = True) -> str:
        cid = hub.resolve_collection(ident)
        if check:  # hub.query checks (and audits) access itself
            hub.access(org, cid, write=write)
        return cid

    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> TaxiiResponse:
        return TaxiiResponse(json.dumps(body), status_code=status, headers=headers)

    # the management dashboard at / (same organisations and tokens as the APIs)
    app.include_router(create_router(hub, results))

    @app.get("/taxii2/")
    def discovery(request: Request) -> Response:
        _prepare(request)
        base = str(request.base_url).rstrip("/")
        return _json(
            {
                "title": title,
                "description": "mamori sharing hub: STIX 2.1 by sector, TLP 2.0 enforced on read.",
                "default": f"{base}/taxii2/{API_ROOT}/",
                "api_roots": [f"{base}/taxii2/{API_ROOT}/"],
            }
        )

    @app.get(f"/taxii2/{API_ROOT}/")
    def api_root(request: Request) -> Response:
        _prepare(request)
        return _json(
            {
                "title": title,
                "description": "Collections per sector and a cross-sector one.",
                "versions": [TAXII_MEDIA_TYPE],
                "max_content_length": MAX_CONTENT_LENGTH,
            }
        )

    @app.get(f"/taxii2/{API_ROOT}/status/{{status_id}}/")
    def get_status(request: Request, status_id: str) -> Response:
        org = _prepare(request)
        return _json(hub.status(org, status_id))

    def _describe(spec: Any, role: str) -> dict[str, Any]:
        return {
            "id": spec.id,
            "title": spec.title,
            "description": spec.description,
            "alias": spec.alias,
            "can_read": True,
            "can_write": role in ("writer", "admin"),
            "media_types": [STIX_MEDIA_TYPE],
        }

    @app.get(f"/taxii2/{API_ROOT}/collections/")
    def get_collections(request: Request) -> Response:
        org = _prepare(request)
        return _json({"collections": [_describe(s, r) for s, r in hub.collections(org)]})

    @app.get(f"/taxii2/{API_ROOT}/collections/{{cid}}/")
    def get_collection(request: Request, cid: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid)
        for spec, role in hub.collections(org):
            if spec.id == ident:
                return _json(_describe(spec, role))
        raise TaxiiError(404, "Collection not found", cid)

    @app.get(f"/taxii2/{API_ROOT}/collections/{{cid}}/objects/")
    def get_objects(request: Request, cid: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid, check=False)
        filters, limit, nxt = filters_from(request)
        page = hub.query(org, ident, filters, endpoint="objects", limit=limit, next_token=nxt)
        return TaxiiResponse(_envelope(page), headers=_page_headers(page))

    @app.post(f"/taxii2/{API_ROOT}/collections/{{cid}}/objects/")
    async def add_objects(request: Request, cid: str) -> Response:
        org = await run_in_threadpool(_prepare, request)
        if not _is_taxii_body(request.headers.get("content-type")):
            raise TaxiiError(415, "Unsupported media type", f"POST a TAXII envelope as {TAXII_MEDIA_TYPE}")
        ident = await run_in_threadpool(_collection, org, cid, write=True)
        raw = await read_body(request)  # BodyLimit has answered 413 before this grows past its cap
        try:
            envelope = await run_in_threadpool(loads_bounded, raw)
        except TooManyValues as exc:
            raise TaxiiError(413, "Request too large", str(exc)) from exc
        except ValueError as exc:
            raise TaxiiError(400, "Malformed JSON", f"the body is not JSON: {str(exc)[:200]}") from exc
        del raw
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
            raise TaxiiError(422, "Not an envelope", 'POST a TAXII envelope: {"objects": [...]}')
        if len(envelope["objects"]) > MAX_ENVELOPE_OBJECTS:
            raise TaxiiError(
                413, "Request too large", f"an envelope holds at most {MAX_ENVELOPE_OBJECTS} objects"
            )
        anonymous = request.headers.get(ANONYMISE_HEADER, "").strip() == "1"
        status = await run_in_threadpool(
            lambda: hub.add_objects(org, ident, envelope["objects"], anonymous=anonymous)
        )
        return _json(status, status=202)

    @app.get(f"/taxii2/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/")
    def get_object(request: Request, cid: str, object_id: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid, check=False)
        filters, limit, nxt = filters_from(request)
        page = hub.query(
            org, ident, filters, endpoint="object", object_id=object_id, limit=limit, next_token=nxt
        )
        if not page.rows and nxt is None:
            raise TaxiiError(404, "Object not found", f"no object {object_id!r} you may read")
        return TaxiiResponse(_envelope(page), headers=_page_headers(page))

    @app.delete(f"/taxii2/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/")
    def delete_object(request: Request, cid: str, object_id: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid, write=True)
        filters, _, _ = filters_from(request, default_version="all")
        hub.delete_object(org, ident, object_id, filters)
        return TaxiiResponse(b"", status_code=200)

    @app.get(f"/taxii2/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/versions/")
    def get_versions(request: Request, cid: str, object_id: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid, check=False)
        filters, limit, nxt = filters_from(request, default_version="all")
        page = hub.query(
            org, ident, filters, endpoint="versions", object_id=object_id, limit=limit, next_token=nxt
        )
        if not page.rows and nxt is None:
            raise TaxiiError(404, "Object not found", f"no object {object_id!r} you may read")
        body: dict[str, Any] = {"more": page.more, "versions": [r.version for r in page.rows]}
        if page.next:
            body["next"] = page.next
        return _json(body, headers=_page_headers(page))

    @app.get(f"/taxii2/{API_ROOT}/collections/{{cid}}/manifest/")
    def get_manifest(request: Request, cid: str) -> Response:
        org = _prepare(request)
        ident = _collection(org, cid, check=False)
        filters, limit, nxt = filters_from(request)
        page = hub.query(org, ident, filters, endpoint="manifest", limit=limit, next_token=nxt)
        body: dict[str, Any] = {
            "more": page.more,
            "objects": [
                {
                    "id": r.stix_id,
                    "date_added": format_timestamp(r.date_added),
                    "version": r.version,
                    "media_type": f"application/stix+json;version={r.spec_version}",
                }
                for r in page.rows
            ],
        }
        if page.next:
            body["next"] = page.next
        return _json(body, headers=_page_headers(page))

    @app.get("/api/whoami")
    def whoami(request: Request) -> Response:
        org = _authenticate(request)
        roles = {spec.alias: role for spec, role in hub.collections(org)}
        return _json({"name": org.name, "sector": org.sector, "roles": roles})

    @app.post("/api/grants")
    async def grant(request: Request) -> Response:
        org = await run_in_threadpool(_authenticate, request)
        try:
            body = loads_bounded(await read_body(request))
        except TooManyValues as exc:
            raise TaxiiError(413, "Request too large", str(exc)) from exc
        except ValueError as exc:
            raise TaxiiError(400, "Malformed JSON", str(exc)[:200]) from exc
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("org", "collection", "role")
        ):
            raise TaxiiError(
                422, "Bad grant", 'send {"org": NAME, "collection": ID, "role": reader|writer|admin}'
            )
        await run_in_threadpool(hub.grant, org, body["org"], body["collection"], body["role"])
        return _json({"granted": body}, status=201)

    return app
