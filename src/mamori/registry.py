"""Released versions and file hashes from the package indexes (PyPI JSON API, npm registry).

Two stages need it. Choosing an upgrade (``mamori fix``) needs the list of releases that exist,
not only the versions the advisories name, and recomputing ``--hash`` pins needs the new
release's file digests; an online scan resolves an unpinned range (``flask>=0.12``) to the
newest release it allows (``match: newest-allowed``). All of it comes from the index when it is
reachable (a short timeout; answers are cached for the process and on
disk under ``MAMORI_HOME``), and the caller falls back to advisory data when it is not.

The index base URLs can be pointed elsewhere (a mirror, or a loopback server in tests) with
``MAMORI_PYPI_URL`` (default ``https://pypi.org/pypi``) and ``MAMORI_NPM_URL`` (default
``https://registry.npmjs.org``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from mamori.ecosystems import base_ecosystem, normalize_name

DEFAULT_PYPI_URL = "https://pypi.org/pypi"
DEFAULT_NPM_URL = "https://registry.npmjs.org"
TIMEOUT = 5.0
CACHE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Release:
    """One released version: whether the index marks it yanked/deprecated, and its file hashes."""

    version: str
    yanked: bool = False
    hashes: tuple[str, ...] = ()
    """``sha256:<hex>`` of every file (PyPI) or the npm ``integrity`` string."""
    url: str = ""
    """The npm tarball URL (``resolved`` in package-lock.json)."""


class PackageIndex:
    """Released versions per package, from the index, cached; ``offline`` never touches the network."""

    def __init__(
        self, *, offline: bool = False, cache_dir: Path | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.offline = offline
        self.cache_dir = cache_dir
        self.timeout = timeout
        self._memo: dict[tuple[str, str], tuple[Release, ...] | None] = {}
        self._lock = threading.Lock()
        self.unreachable: set[str] = set()
        """Base URLs that failed once in this run (not asked again)."""

    def releases(self, ecosystem: str, name: str) -> tuple[Release, ...] | None:
        """Every release of ``name``, or None when the index is offline, unreachable or has no such package."""
        eco = base_ecosystem(ecosystem)
        if self.offline or eco not in ("PyPI", "npm"):
            return None
        key = (eco, normalize_name(eco, name))
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        data = self._cached(key) or self._download(eco, name)
        found = None if data is None else _parse(eco, data)
        with self._lock:
            self._memo[key] = found
        return found

    def _url(self, eco: str, name: str) -> tuple[str, str]:
        if eco == "PyPI":
            base = os.environ.get("MAMORI_PYPI_URL") or DEFAULT_PYPI_URL
            return base, f"{base.rstrip('/')}/{quote(normalize_name(eco, name))}/json"
        base = os.environ.get("MAMORI_NPM_URL") or DEFAULT_NPM_URL
        return base, f"{base.rstrip('/')}/{quote(name, safe='@')}"

    def _cache_file(self, key: tuple[str, str]) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = quote(key[1], safe="")
        return self.cache_dir / key[0] / f"{safe}.json"

    def _cached(self, key: tuple[str, str]) -> Any:
        path = self._cache_file(key)
        if path is None or not path.is_file():
            return None
        if time.time() - path.stat().st_mtime > CACHE_SECONDS:
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _download(self, eco: str, name: str) -> Any:
        base, url = self._url(eco, name)
        if base in self.unreachable:
            return None
        try:
            resp = httpx.get(
                url, timeout=self.timeout, follow_redirects=True, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError:
            self.unreachable.add(base)
            return None
        if resp.status_code != 200:
            return None
        try:
            data = resp.json()
        except ValueError:
            return None
        path = self._cache_file((eco, normalize_name(eco, name)))
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(data), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass  # a cache that cannot be written only costs a download next time
        return data


def _parse(eco: str, data: Any) -> tuple[Release, ...] | None:
    if not isinstance(data, dict):
        return None
    out: list[Release] = []
    if eco == "PyPI":
        releases = data.get("releases")
        if not isinstance(releases, dict):
            return None
        for version, files in releases.items():
            if not isinstance(files, list):
                continue
            hashes = tuple(
                f"sha256:{f['digests']['sha256']}"
                for f in files
                if isinstance(f, dict) and isinstance(f.get("digests"), dict) and f["digests"].get("sha256")
            )
            yanked = bool(files) and all(isinstance(f, dict) and f.get("yanked") for f in files)
            if not files:
                continue  # a version with no files cannot be installed
            out.append(Release(str(version), yanked=yanked, hashes=hashes))
        return tuple(out)
    versions = data.get("versions")
    if not isinstance(versions, dict):
        return None
    for version, meta in versions.items():
        meta = meta if isinstance(meta, dict) else {}
        raw_dist = meta.get("dist")
        dist: dict[str, Any] = raw_dist if isinstance(raw_dist, dict) else {}
        integrity = str(dist.get("integrity") or "")
        out.append(
            Release(
                str(version),
                yanked=bool(meta.get("deprecated")),
                hashes=(integrity,) if integrity else (),
                url=str(dist.get("tarball") or ""),
            )
        )
    return tuple(out)
