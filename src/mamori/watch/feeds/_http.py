"""HTTP for the feeds: httpx with timeouts, a size cap, and errors that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mamori.errors import ResourceUnavailable
from mamori.watch._redact import redact

TIMEOUT = httpx.Timeout(30.0, read=120.0)
MAX_BYTES = 512 * 1024 * 1024


def client() -> httpx.Client:
    """A client for the feeds (redirects followed, mamori's user agent)."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": "mamori-watch"})


@contextmanager
def stream(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> Iterator[httpx.Response]:
    """A streamed GET; HTTP errors and transport failures become ResourceUnavailable."""
    try:
        with http.stream("GET", url, headers=headers or {}) as response:
            if response.status_code >= 400 and response.status_code != 404:
                raise ResourceUnavailable(
                    f"{redact(url)}: HTTP {response.status_code}; check the feed URL in watch.toml"
                )
            yield response
    except httpx.HTTPError as exc:
        raise ResourceUnavailable(
            f"{redact(url)}: {type(exc).__name__}; the feed is retried next cycle"
        ) from exc


def fetch_to(
    http: httpx.Client, url: str, dest: Path, headers: dict[str, str] | None = None
) -> httpx.Response | None:
    """Download ``url`` to ``dest`` (capped); the response (body read), or None for 304/404."""
    with stream(http, url, headers) as response:
        if response.status_code in (304, 404):
            return None
        received = 0
        with dest.open("wb") as out:
            for chunk in response.iter_bytes(1024 * 1024):
                received += len(chunk)
                if received > MAX_BYTES:
                    raise ResourceUnavailable(f"{redact(url)}: more than {MAX_BYTES} bytes; refused")
                out.write(chunk)
        return response
