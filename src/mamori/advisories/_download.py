"""Streaming HTTP downloads for ``mamori db update``: capped, timed out, with progress.

Feeds are fetched to a temporary file (never into memory), the number of bytes is capped so a
hostile or broken mirror cannot fill the disk, and a connection that drops before the announced
``Content-Length`` arrived is a failure, not a silently truncated archive. Every failure becomes
:class:`~mamori.errors.ResourceUnavailable` whose message says how to continue offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mamori.errors import ResourceUnavailable

if TYPE_CHECKING:  # httpx is imported on first download: a scan that downloads nothing skips it
    import httpx

MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
"""The largest file downloaded (osv.dev's biggest all.zip is a few hundred megabytes)."""

DEFAULT_TIMEOUT = (30.0, 120.0)
"""Seconds to connect (and write, and wait for a pool slot) and to wait for each read."""

_OFFLINE_HINT = (
    "check the network or the URL; offline, download the files elsewhere and run `mamori db import`"
)


class Progress(Protocol):
    """Receives progress of long work (a download, an import); the CLI binds a progress bar.

    ``start`` begins a step (``total`` in the step's units, None when unknown), ``advance``
    moves it on, ``finish`` ends it. An exception raised here aborts the work cleanly.
    """

    def start(self, description: str, total: int | None) -> None:
        """A new step begins."""
        ...

    def advance(self, n: int) -> None:
        """``n`` more units of the current step are done."""
        ...

    def finish(self) -> None:
        """The current step is complete."""
        ...


def download(
    url: str,
    dest: Path,
    *,
    description: str,
    progress: Progress | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: httpx.Timeout | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Stream ``url`` into ``dest``; returns the byte count. Failures raise ResourceUnavailable."""
    import httpx

    if timeout is None:
        timeout = httpx.Timeout(DEFAULT_TIMEOUT[0], read=DEFAULT_TIMEOUT[1])
    received = 0
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, transport=transport) as client,
            client.stream("GET", url, headers={"User-Agent": "mamori"}) as response,
        ):
            if response.status_code >= 400:
                raise ResourceUnavailable(f"{url}: HTTP {response.status_code}; {_OFFLINE_HINT}")
            declared = _content_length(response)
            identity = response.headers.get("Content-Encoding", "identity").lower() in ("", "identity")
            if identity and declared is not None and declared > max_bytes:
                raise ResourceUnavailable(
                    f"{url}: {declared} bytes announced, more than the limit of {max_bytes}"
                )
            if progress is not None:
                progress.start(description, declared if identity else None)
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(1024 * 1024):
                    received += len(chunk)
                    if received > max_bytes:
                        raise ResourceUnavailable(f"{url}: more than the limit of {max_bytes} bytes")
                    out.write(chunk)
                    if progress is not None:
                        progress.advance(len(chunk))
            raw = response.num_bytes_downloaded
            if declared is not None and raw != declared:
                raise ResourceUnavailable(
                    f"{url}: connection closed after {raw} of {declared} bytes; {_OFFLINE_HINT}"
                )
            if progress is not None:
                progress.finish()
    except httpx.HTTPError as exc:
        raise ResourceUnavailable(f"{url}: {type(exc).__name__}: {exc}; {_OFFLINE_HINT}") from exc
    except OSError as exc:
        raise ResourceUnavailable(f"cannot write {dest}: {exc}") from exc
    return received


def _content_length(response: httpx.Response) -> int | None:
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None
