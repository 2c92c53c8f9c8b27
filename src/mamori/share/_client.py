"""The hub's client side: push a bundle to a collection, pull a collection's new objects.

Plain TAXII 2.1 over ``httpx``, so ``mamori share`` talks to any TAXII 2.1 server, not only
to ``mamori serve``. A collection may be named by its id, its title or (on a mamori hub) its
sector. Network failures are :class:`~mamori.errors.ResourceUnavailable` (exit 3); refusals by
the server (bad token, no role, bad input) are :class:`~mamori.errors.InputError` (exit 2)
carrying the server's TAXII error message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mamori.errors import InputError, ResourceUnavailable

TAXII = "application/taxii+json;version=2.1"
ANONYMISE_HEADER = "X-Mamori-Anonymise"
"""The header of a push made with ``--anonymise`` (a mamori hub then never names its sender)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API token, sent as Bearer, or as HTTP Basic password when ``user`` is given."""

    token: str
    user: str | None = None

    def apply(self, client: httpx.Client) -> None:
        """Set the Authorization header of ``client``."""
        if self.user:
            client.auth = httpx.BasicAuth(self.user, self.token)
        else:
            client.headers["Authorization"] = f"Bearer {self.token}"


class TaxiiClient:
    """A client of one TAXII 2.1 server."""

    def __init__(self, server: str, credentials: Credentials, *, timeout: float = 30.0) -> None:
        """``server``: the hub's base URL, its discovery URL (``…/taxii2/``) or an API root URL."""
        self.server = server.rstrip("/") + "/"
        self._http = httpx.Client(timeout=timeout, headers={"Accept": TAXII}, follow_redirects=True)
        credentials.apply(self._http)
        self._root: str | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ResourceUnavailable(f"cannot reach {url}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
                detail = f"{body.get('title', '')}: {body.get('description', '')}".strip(": ")
            except ValueError:
                detail = resp.text[:200]
            if resp.status_code >= 500 or resp.status_code == 429:
                raise ResourceUnavailable(f"{url}: the server answered {resp.status_code} {detail}")
            raise InputError(f"{url}: the server refused ({resp.status_code}): {detail}")
        return resp

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        resp = self._request(method, url, **kwargs)
        try:
            data = resp.json()
        except ValueError as exc:
            raise InputError(f"{url}: the server's answer is not JSON") from exc
        if not isinstance(data, dict):
            raise InputError(f"{url}: the server's answer is not a JSON object")
        return data

    def api_root(self) -> str:
        """The API root to use: the URL itself if it is one, else the server's default."""
        if self._root is not None:
            return self._root
        candidates = (
            [self.server] if self.server.endswith("/taxii2/") else [self.server, self.server + "taxii2/"]
        )
        for url in candidates:
            try:
                data = self._json("GET", url)
            except InputError:
                continue
            if "versions" in data:  # an API root
                self._root = url
                return url
            if "api_roots" in data or "default" in data:
                root = data.get("default") or (data.get("api_roots") or [None])[0]
                if isinstance(root, str):
                    self._root = httpx.URL(url).join(root).__str__().rstrip("/") + "/"
                    return self._root
        raise InputError(
            f"{self.server}: no TAXII 2.1 discovery or API root there (or the token was refused)"
        )

    def collection(self, ident: str) -> dict[str, Any]:
        """The collection resource named by id, title or alias (a mamori hub's sector name)."""
        root = self.api_root()
        data = self._json("GET", root + "collections/")
        for c in data.get("collections", []):
            if isinstance(c, dict) and ident in (c.get("id"), c.get("title"), c.get("alias")):
                return {**c, "url": f"{root}collections/{c['id']}/"}
        raise InputError(f"no collection {ident!r} you may use on {root}")

    def collection_url(self, ident: str) -> str:
        """The URL of a collection named by id, title or alias."""
        return str(self.collection(ident)["url"])

    def push(
        self, collection: str, objects: list[Mapping[str, Any]], *, anonymise: bool = False
    ) -> dict[str, Any]:
        """POST objects to a collection; returns the status resource. ``anonymise`` tells a
        mamori hub (``X-Mamori-Anonymise: 1``) to name the organisation to no other one."""
        url = self.collection_url(collection) + "objects/"
        body = json.dumps({"objects": objects}).encode("utf-8")
        headers = {"Content-Type": TAXII, **({ANONYMISE_HEADER: "1"} if anonymise else {})}
        return self._json("POST", url, content=body, headers=headers)

    def pages(
        self, collection: str, *, added_after: str | None = None, limit: int = 500
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Every page of a collection's objects added after a time: (objects, X-TAXII-Date-Added-Last)."""
        url = self.collection_url(collection) + "objects/"
        params: dict[str, str] = {"limit": str(limit)}
        if added_after:
            params["added_after"] = added_after
        while True:
            resp = self._request("GET", url, params=params)
            try:
                data = resp.json()
            except ValueError as exc:
                raise InputError(f"{url}: the server's answer is not JSON") from exc
            objs = [o for o in data.get("objects", []) if isinstance(o, dict)]
            yield objs, resp.headers.get("X-TAXII-Date-Added-Last")
            nxt = data.get("next")
            if not data.get("more") or not nxt:
                return
            params = {**params, "next": str(nxt)}
