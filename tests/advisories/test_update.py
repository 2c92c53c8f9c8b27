"""``AdvisoryStore.update`` against a real HTTP server on 127.0.0.1 serving the osv.dev layout."""

from __future__ import annotations

import gzip
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mamori.advisories.osv import load_yaml
from mamori.advisories.store import (
    DEFAULT_EPSS_URL,
    DEFAULT_KEV_URL,
    DEFAULT_OSV_URL_TEMPLATE,
    AdvisoryStore,
    Limits,
    default_urls,
)
from mamori.errors import ResourceUnavailable
from mamori.inventory.interface import Component
from mamori.model import Location

EPSS_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "epss" / "epss_scores_sample.csv"


@dataclass
class Site:
    """What the test server serves: path → bytes; paths in ``drop`` are cut off halfway."""

    files: dict[str, bytes] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    base: str = ""


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            body = site.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in site.drop:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def pypa_records(shared_data: Path) -> list[dict[str, object]]:
    vulns = shared_data / "pypa-advisory-db" / "vulns"
    files = sorted(p for d in sorted(vulns.iterdir())[:120] if d.is_dir() for p in d.rglob("*.yaml"))
    return [load_yaml(p.read_bytes(), str(p)) for p in files[:300]]


@pytest.fixture(scope="module")
def kev_bytes(shared_data: Path) -> bytes:
    return (shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json").read_bytes()


def _all_zip(records: list[dict[str, object]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rec in records:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    return out.getvalue()


def _publish(site: Site, records: list[dict[str, object]], kev: bytes) -> None:
    site.files["/PyPI/all.zip"] = _all_zip(records)
    site.files["/kev.json"] = kev
    site.files["/epss.csv.gz"] = gzip.compress(EPSS_SAMPLE.read_bytes())


def _update(store: AdvisoryStore, site: Site, ecosystems: list[str] | None = None, **kw: object) -> object:
    return store.update(
        ecosystems or ["PyPI"],
        osv_url_template=site.base + "/{ecosystem}/all.zip",
        kev_url=site.base + "/kev.json",
        epss_url=site.base + "/epss.csv.gz",
        **kw,  # type: ignore[arg-type]
    )


def test_update_downloads_osv_kev_and_epss(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records, kev_bytes)
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = _update(store, site, ["pypi"])  # the bucket name is case-sensitive: pypi → PyPI
    kev_count = json.loads(kev_bytes)["count"]
    assert summary.ecosystems == {"PyPI": len(pypa_records)}  # type: ignore[attr-defined]
    assert (summary.kev, summary.epss, summary.errors) == (kev_count, 4, ())  # type: ignore[attr-defined]
    assert site.requests == ["/PyPI/all.zip", "/kev.json", "/epss.csv.gz"]
    status = store.status()
    assert status.advisories == len(pypa_records) and status.kev_count == kev_count
    assert {s.source: s.location for s in status.sources}["osv/PyPI"] == site.base + "/PyPI/all.zip"
    record = pypa_records[7]
    assert store.get(str(record["id"])) is not None
    affected = record["affected"][0]  # type: ignore[index]
    if affected.get("versions"):
        comp = Component("PyPI", affected["package"]["name"], affected["versions"][0], Location("r.txt", 1))
        assert record["id"] in {m.advisory.id for m in store.lookup([comp])}


def test_update_replaces_an_ecosystem_wholesale(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    store = AdvisoryStore(tmp_path / "db.sqlite")
    store.import_paths([Path(__file__).resolve().parent / "fixtures" / "osv" / "debian_release_suffix.json"])
    _publish(site, pypa_records, kev_bytes)
    _update(store, site)
    kept, dropped = pypa_records[:200], pypa_records[200:]
    site.files["/PyPI/all.zip"] = _all_zip(kept)
    summary = _update(store, site)
    assert summary.removed == len(dropped)  # type: ignore[attr-defined]
    assert store.status().ecosystems == {"PyPI": len(kept), "Debian": 1}
    assert all(store.get(str(r["id"])) is None for r in dropped)
    assert store.get("DSA-5412-1") is not None  # other ecosystems are untouched


def test_without_ecosystems_the_stored_ones_are_refreshed(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records, kev_bytes)
    store = AdvisoryStore(tmp_path / "db.sqlite")
    _update(store, site)
    site.requests.clear()
    store.update([], osv_url_template=site.base + "/{ecosystem}/all.zip", kev_url="", epss_url="")
    assert site.requests == ["/PyPI/all.zip"]


def test_ecosystem_names_are_url_quoted(tmp_path: Path, site: Site) -> None:
    record = {
        "id": "RLSA-2024:0001",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl"}, "versions": ["3.0.7"]}],
    }
    site.files["/Rocky%20Linux/all.zip"] = _all_zip([record])
    store = AdvisoryStore(tmp_path / "db.sqlite")
    summary = store.update(
        ["Rocky Linux"], osv_url_template=site.base + "/{ecosystem}/all.zip", kev_url="", epss_url=""
    )
    assert summary.ecosystems == {"Rocky Linux": 1}
    assert site.requests == ["/Rocky%20Linux/all.zip"]


def test_a_connection_dropped_mid_download_changes_nothing(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records[:50], kev_bytes)
    db = tmp_path / "db.sqlite"
    store = AdvisoryStore(db)
    _update(store, site)
    before = db.read_bytes()
    _publish(site, pypa_records, kev_bytes)
    site.drop.add("/kev.json")
    with pytest.raises(ResourceUnavailable) as info:
        _update(store, site)
    assert "mamori db import" in str(info.value)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]
    assert store.status().advisories == 50


@pytest.mark.parametrize("missing", ["/PyPI/all.zip", "/epss.csv.gz"])
def test_http_errors_raise_resource_unavailable(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes, missing: str
) -> None:
    _publish(site, pypa_records[:5], kev_bytes)
    del site.files[missing]
    store = AdvisoryStore(tmp_path / "db.sqlite")
    with pytest.raises(ResourceUnavailable, match="404"):
        _update(store, site)
    assert not store.exists


def test_an_unreachable_server_raises_resource_unavailable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = AdvisoryStore(tmp_path / "db.sqlite")
    with pytest.raises(ResourceUnavailable, match="db import"):
        store.update(
            ["PyPI"],
            osv_url_template=f"http://127.0.0.1:{port}/{{ecosystem}}/all.zip",
            kev_url="",
            epss_url="",
        )


def test_downloads_are_capped(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records[:5], kev_bytes)
    store = AdvisoryStore(tmp_path / "db.sqlite", limits=Limits(max_download_bytes=100_000))
    with pytest.raises(ResourceUnavailable, match="limit"):
        _update(store, site)  # the KEV catalogue is over a megabyte
    assert not store.exists


def test_a_progress_callback_failing_midway_changes_nothing(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records[:20], kev_bytes)
    db = tmp_path / "db.sqlite"
    store = AdvisoryStore(db)
    _update(store, site)
    before = db.read_bytes()
    _publish(site, pypa_records, kev_bytes)

    class Boom:
        def __init__(self) -> None:
            self.steps: list[str] = []
            self.units = 0

        def start(self, description: str, total: int | None) -> None:
            self.steps.append(description)

        def advance(self, n: int) -> None:
            self.units += n
            if self.steps[-1].startswith("Importing") and self.units > 100:
                raise KeyboardInterrupt

        def finish(self) -> None:
            self.units = 0

    boom = Boom()
    with pytest.raises(KeyboardInterrupt):
        _update(store, site, progress=boom)
    assert boom.steps[:3] == ["Downloading osv/PyPI", "Downloading kev", "Downloading epss"]
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]


def test_a_corrupt_archive_keeps_the_previous_ecosystem_data(
    tmp_path: Path, site: Site, pypa_records: list[dict[str, object]], kev_bytes: bytes
) -> None:
    _publish(site, pypa_records[:30], kev_bytes)
    store = AdvisoryStore(tmp_path / "db.sqlite")
    _update(store, site)
    site.files["/PyPI/all.zip"] = b"PK\x03\x04 this is not really a zip"
    summary = _update(store, site)
    assert [e.path for e in summary.errors] == [site.base + "/PyPI/all.zip"]  # type: ignore[attr-defined]
    assert store.status().advisories == 30


def test_default_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MAMORI_OSV_URL", "MAMORI_KEV_URL", "MAMORI_EPSS_URL"):
        monkeypatch.delenv(var, raising=False)
    assert default_urls() == (DEFAULT_OSV_URL_TEMPLATE, DEFAULT_KEV_URL, DEFAULT_EPSS_URL)
    monkeypatch.setenv("MAMORI_OSV_URL", "http://mirror.invalid/{ecosystem}.zip")
    monkeypatch.setenv("MAMORI_KEV_URL", "http://mirror.invalid/kev.json")
    monkeypatch.setenv("MAMORI_EPSS_URL", "http://mirror.invalid/epss.csv.gz")
    assert default_urls() == (
        "http://mirror.invalid/{ecosystem}.zip",
        "http://mirror.invalid/kev.json",
        "http://mirror.invalid/epss.csv.gz",
    )


def test_update_uses_the_environment_urls(
    tmp_path: Path,
    site: Site,
    pypa_records: list[dict[str, object]],
    kev_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _publish(site, pypa_records[:10], kev_bytes)
    monkeypatch.setenv("MAMORI_OSV_URL", site.base + "/{ecosystem}/all.zip")
    monkeypatch.setenv("MAMORI_KEV_URL", site.base + "/kev.json")
    monkeypatch.setenv("MAMORI_EPSS_URL", site.base + "/epss.csv.gz")
    summary = AdvisoryStore(tmp_path / "db.sqlite").update(["PyPI"])
    assert summary.ecosystems == {"PyPI": 10} and summary.epss == 4
    assert summary.sources == (
        site.base + "/PyPI/all.zip",
        site.base + "/kev.json",
        site.base + "/epss.csv.gz",
    )
