"""The local advisory database: OSV advisories, CISA KEV and FIRST EPSS in one SQLite file.

Why SQLite: a scan needs thousands of lookups by (ecosystem, package) against hundreds of
thousands of advisories, offline and fast, and the data is read far more often than written.
The stdlib ``sqlite3`` module gives an indexed single file with no server and no ORM.

Layout (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`):

* ``advisories(id, modified, withdrawn, record)``: the full OSV record as zlib-compressed JSON;
* ``affected(ecosystem, name, advisory_id, entry)``: the lookup index, one row per
  ``affected[]`` entry, keyed by base ecosystem (``Debian:12`` → ``Debian``) and the name
  normalised by :func:`mamori.ecosystems.normalize_name`;
* ``aliases(alias, advisory_id)``; ``kev(…)``; ``epss(cve, epss, percentile, …)``;
* ``meta(source, updated, count, location, version, released)``: one row per source
  (``osv/PyPI``, ``kev``, ``epss``) saying when and from where it was last loaded.

Writes are atomic: every import and update works on a temporary copy next to the database and
``os.replace``\\ s it over the original only when everything succeeded. An interrupted or failed
run (an exception, Ctrl-C, a killed process) leaves the previous database file whole. Readers
reopen the file when it has been replaced.

Withdrawn advisories are stored (``get`` returns them) but never matched by :meth:`lookup`.
A record replaces a stored one of the same id unless the stored one was modified later.

Why one module of about 1,150 lines: the atomic-copy writer, the importers (files, zips, feeds,
KEV, EPSS) and the readers share one connection discipline and one schema; splitting them would
spread the invariants of the replace-on-success protocol over several files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mamori._text import count
from mamori.advisories._download import Progress, download
from mamori.advisories._sources import (
    EpssScores,
    KevCatalog,
    is_kev_document,
    load_epss,
    parse_kev,
)
from mamori.advisories.freshness import SourceAge, newest_modified, source_ages
from mamori.advisories.interface import Advisory, Affected, Match
from mamori.advisories.osv import load_json, load_yaml, parse_advisory, parse_timestamp
from mamori.ecosystems import PURL_TYPES, base_ecosystem, normalize_name
from mamori.errors import InputError, NoDatabaseError, ParseError
from mamori.inventory.interface import Component
from mamori.model import ScanError

__all__ = [
    "DEFAULT_ECOSYSTEMS",
    "DEFAULT_EPSS_URL",
    "DEFAULT_KEV_URL",
    "DEFAULT_OSV_URL_TEMPLATE",
    "SCHEMA_VERSION",
    "AdvisoryStore",
    "DbStatus",
    "ImportSummary",
    "Limits",
    "Progress",
    "SourceInfo",
    "UpdateSummary",
    "default_urls",
]

SCHEMA_VERSION = 1
"""Bumped whenever the layout changes; a database of another version is rebuilt on write."""

DEFAULT_OSV_URL_TEMPLATE = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
DEFAULT_KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
DEFAULT_EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

DEFAULT_ECOSYSTEMS: tuple[str, ...] = (
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "RubyGems",
    "Packagist",
    "Maven",
    "NuGet",
)
"""What ``update`` fetches when asked for no ecosystem and the database names none yet."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn TEXT NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS affected (
    ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL, entry INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected(ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected(advisory_id);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT NOT NULL, advisory_id TEXT NOT NULL, PRIMARY KEY (alias, advisory_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_by_advisory ON aliases(advisory_id);
CREATE TABLE IF NOT EXISTS kev (
    cve_id TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT NOT NULL,
    known_ransomware TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
    name TEXT NOT NULL, short_description TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS epss (
    cve TEXT PRIMARY KEY, epss REAL NOT NULL, percentile REAL NOT NULL,
    score_date TEXT NOT NULL, model_version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ecosystem_stats (
    ecosystem TEXT PRIMARY KEY, advisories INTEGER NOT NULL, newest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (
    source TEXT PRIMARY KEY, updated TEXT NOT NULL, count INTEGER NOT NULL,
    location TEXT NOT NULL, version TEXT NOT NULL DEFAULT '', released TEXT NOT NULL DEFAULT '');
"""

ALL = "*"
"""The ``ecosystem_stats`` row of the whole database."""


def _refresh_stats(conn: sqlite3.Connection) -> None:
    """Each ecosystem's advisory count and newest ``modified``, and the whole database's, kept
    with the data by every writer (in its transaction): a scan asks for them every time, and
    over 200,000 advisories computing them took 1.3 s of a 2.2 s scan."""
    conn.execute("DELETE FROM ecosystem_stats")
    per_eco = conn.execute("SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM affected GROUP BY ecosystem")
    rows = [(eco, n, newest_modified(conn, eco)) for eco, n in per_eco.fetchall()]
    total = conn.execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
    rows.append((ALL, total, newest_modified(conn)))
    conn.executemany(
        "INSERT INTO ecosystem_stats (ecosystem, advisories, newest) VALUES (?, ?, ?)",
        [(eco, n, when.isoformat() if when else "") for eco, n, when in rows],
    )


def _stats(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, datetime | None]]:
    """(advisories per ecosystem, newest ``modified`` per ecosystem and for :data:`ALL`) as the
    last writer recorded them; a database written before the table existed is counted now (and
    its newest dates left to be computed: the second dict is then empty)."""
    try:
        rows = conn.execute("SELECT ecosystem, advisories, newest FROM ecosystem_stats").fetchall()
    except sqlite3.OperationalError:  # written by an older mamori: no such table
        rows = []
    if not rows:
        counted = conn.execute(
            "SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM affected GROUP BY ecosystem ORDER BY ecosystem"
        ).fetchall()
        return dict(counted), {}
    per_eco = {eco: n for eco, n, _ in sorted(rows) if eco != ALL}
    newest = {eco: (datetime.fromisoformat(text) if text else None) for eco, _, text in rows}
    return per_eco, newest


_OSV_SUFFIXES = (".json", ".yaml", ".yml")
_STALE_AFTER = timedelta(hours=6)
"""A temporary copy this old belongs to a killed import, not a running one."""
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps that keep hostile archives and files from exhausting memory or disk."""

    max_file_bytes: int = 32 * 1024 * 1024
    """One OSV/KEV document (a file or a zip member)."""
    max_zip_entries: int = 1_000_000
    max_zip_total_bytes: int = 8 * 1024 * 1024 * 1024
    """Sum of the uncompressed sizes of a zip's members."""
    max_zip_ratio: int = 200
    """Largest uncompressed/compressed ratio of a member bigger than 1 MiB."""
    max_epss_bytes: int = 512 * 1024 * 1024
    max_download_bytes: int = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did, counted by distinct advisory id.

    An id met more than once (in several files, zip members or folders given together) is one
    advisory: its extra copies are counted in :attr:`duplicates`, and the copy with the latest
    ``modified`` is the one kept.
    """

    files: int = 0
    """Files (and zip members) read."""
    advisories: int = 0
    """Distinct advisories written: ``new + updated + current``."""
    unchanged: int = 0
    """Distinct advisories not written because the database held a later version of them."""
    withdrawn: int = 0
    """Of the distinct advisories written, how many are withdrawn (kept, never matched)."""
    kev: int = 0
    epss: int = 0
    errors: tuple[ScanError, ...] = ()
    new: int = 0
    """Written advisories the database did not hold before."""
    updated: int = 0
    """Written advisories that replaced an older version in the database."""
    current: int = 0
    """Written advisories the database already held with the same ``modified`` time."""
    records: int = 0
    """OSV records read, copies of the same id included."""
    duplicates: int = 0
    """Records whose id had already been read in this import (``records`` minus distinct ids)."""
    duplicate_ids: int = 0
    """Distinct ids read more than once."""


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """What an update did: advisories per ecosystem now stored, and what disappeared."""

    ecosystems: dict[str, int] = field(default_factory=dict)
    removed: int = 0
    """Advisories of the updated ecosystems that upstream no longer lists."""
    kev: int = 0
    epss: int = 0
    sources: tuple[str, ...] = ()
    """The URLs that were downloaded."""
    errors: tuple[ScanError, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """When and from where one source (``osv/PyPI``, ``kev``, ``epss``) was last loaded."""

    source: str
    updated: datetime | None
    count: int
    location: str
    version: str = ""
    released: str = ""


@dataclass(frozen=True, slots=True)
class DbStatus:
    """What the database holds and how old it is."""

    path: Path
    exists: bool
    schema_version: int = 0
    advisories: int = 0
    withdrawn: int = 0
    ecosystems: dict[str, int] = field(default_factory=dict)
    """Advisories per base ecosystem."""
    kev_count: int = 0
    kev_version: str = ""
    kev_released: str = ""
    epss_count: int = 0
    epss_score_date: str = ""
    epss_model_version: str = ""
    sources: tuple[SourceInfo, ...] = ()
    last_updated: datetime | None = None
    """When a source was last loaded (the import or download time, not the data's date)."""
    age: timedelta | None = None
    """Time since :attr:`last_updated`."""
    advisories_modified: datetime | None = None
    """The newest ``modified`` among the stored advisories: how current the advisory data is."""
    kev_date: datetime | None = None
    """The KEV catalogue's own release date (``dateReleased``), not when it was imported."""
    ages: tuple[SourceAge, ...] = ()
    """The age of each source (every OSV ecosystem, KEV, EPSS) by its data's own date."""

    def data_age(self, now: datetime | None = None) -> timedelta | None:
        """Age of the older of the two data dates (advisories, KEV) — None when neither is known."""
        dates = [d for d in (self.advisories_modified, self.kev_date) if d is not None]
        if not dates:
            return None
        return (now or datetime.now(UTC)) - min(dates)


def default_urls() -> tuple[str, str, str]:
    """(OSV URL template, KEV URL, EPSS URL): ``MAMORI_OSV_URL``/``_KEV_URL``/``_EPSS_URL`` or defaults.

    The OSV template contains ``{ecosystem}``, replaced by the URL-quoted ecosystem name.
    """
    return (
        os.environ.get("MAMORI_OSV_URL") or DEFAULT_OSV_URL_TEMPLATE,
        os.environ.get("MAMORI_KEV_URL") or DEFAULT_KEV_URL,
        os.environ.get("MAMORI_EPSS_URL") or DEFAULT_EPSS_URL,
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime | None:
    return parse_timestamp(text) if text else None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _compress(record: Any) -> bytes:
    return zlib.compress(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def _decompress(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))  # a record this store wrote (after load_json): trusted


def _later(stored: str, incoming: str) -> bool:
    """True when the stored ``modified`` is strictly later than the incoming one."""
    a, b = parse_timestamp(stored), parse_timestamp(incoming)
    if a is None or b is None:
        return a is not None and b is None
    return a > b


class _Counts:
    """Mutable tallies of one import, frozen into a summary at the end."""

    def __init__(self) -> None:
        self.files = 0
        self.kev = 0
        self.epss = 0
        self.errors: list[ScanError] = []
        self.ecosystems: dict[str, set[str]] = {}
        """Base ecosystem -> the locations (paths given, URLs) its records came from."""
        self.location = ""
        """The path given (or URL) being read now."""
        self.before: dict[str, str | None] = {}
        """Every id read -> its stored ``modified`` before this import (None: not stored)."""
        self.written: dict[str, tuple[str, bool]] = {}
        """Ids written -> (``modified``, withdrawn) of the copy kept."""
        self.records = 0
        self.repeats: dict[str, int] = {}

    def error(self, path: str, message: str, line: int = 0) -> None:
        self.errors.append(ScanError(path, message, line))

    def summary(self) -> ImportSummary:
        new = updated = current = 0
        for adv_id, (modified, _) in self.written.items():
            before = self.before.get(adv_id)
            if before is None:
                new += 1
            elif _later(modified, before):
                updated += 1
            else:
                current += 1
        return ImportSummary(
            files=self.files,
            advisories=len(self.written),
            unchanged=sum(1 for i in self.before if i not in self.written),
            withdrawn=sum(1 for _, gone in self.written.values() if gone),
            kev=self.kev,
            epss=self.epss,
            errors=tuple(self.errors),
            new=new,
            updated=updated,
            current=current,
            records=self.records,
            duplicates=sum(self.repeats.values()),
            duplicate_ids=len(self.repeats),
        )


class AdvisoryStore:
    """The advisory database at ``path`` (``mamori.config.advisory_db_path()`` for the CLI).

    Reading methods other than :meth:`status`, :meth:`last_updated`, :meth:`ecosystems` and
    :attr:`exists` raise :class:`~mamori.errors.NoDatabaseError` when there is no database.
    """

    def __init__(self, path: Path | str, *, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int, int] | None = None
        self._cache: dict[str, Advisory] = {}

    # ------------------------------------------------------------------ reading

    @property
    def exists(self) -> bool:
        """True when a database file is present."""
        return self.path.is_file()

    def close(self) -> None:
        """Close the read connection (reopened on the next read)."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._identity = None
        self._cache.clear()

    def __enter__(self) -> AdvisoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reader(self) -> sqlite3.Connection:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self.close()
            raise NoDatabaseError(
                "no advisory database: run `mamori db update` (online) or `mamori db import PATH` (offline)",
                path=str(self.path),
            ) from None
        identity = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._conn is None or identity != self._identity:
            self.close()
            try:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                conn.execute("SELECT 1 FROM advisories LIMIT 1").fetchall()
            except sqlite3.DatabaseError as exc:
                raise InputError(
                    f"not a mamori advisory database ({exc}); delete it and run `mamori db update`",
                    path=str(self.path),
                ) from exc
            if version != SCHEMA_VERSION:
                conn.close()
                raise NoDatabaseError(
                    f"advisory database has schema {version}, this mamori needs {SCHEMA_VERSION}: "
                    "run `mamori db update` or `mamori db import` to rebuild it",
                    path=str(self.path),
                )
            self._conn = conn
            self._identity = identity
        return self._conn

    def _advisory(self, advisory_id: str, blob: bytes) -> Advisory:
        cached = self._cache.get(advisory_id)
        if cached is None:
            cached = parse_advisory(_decompress(blob))
            if len(self._cache) > 300_000:
                self._cache.clear()
            self._cache[advisory_id] = cached
        return cached

    def get(self, advisory_id: str) -> Advisory | None:
        """The stored advisory with this id (withdrawn ones included), or None."""
        row = self._reader().execute("SELECT record FROM advisories WHERE id = ?", (advisory_id,)).fetchone()
        return self._advisory(advisory_id, row[0]) if row else None

    def records_for(self, packages: Iterable[tuple[str, str]]) -> list[str]:
        """The OSV JSON text of every stored advisory affecting any of ``packages`` ((ecosystem,
        name) pairs): what a remote fix worker needs to choose a safe version."""
        wanted = sorted({(base_ecosystem(e), normalize_name(e, n)) for e, n in packages})
        conn = self._reader()
        ids: set[str] = set()
        for eco, name in wanted:
            ids.update(
                r[0]
                for r in conn.execute(
                    "SELECT advisory_id FROM affected WHERE ecosystem = ? AND name = ?", (eco, name)
                )
            )
        out = []
        for advisory_id in sorted(ids):
            row = conn.execute("SELECT record FROM advisories WHERE id = ?", (advisory_id,)).fetchone()
            if row:
                out.append(zlib.decompress(row[0]).decode("utf-8"))
        return out

    def resolve_alias(self, advisory_id: str) -> list[str]:
        """Stored advisory ids that are ``advisory_id`` or list it as an alias (sorted)."""
        conn = self._reader()
        ids = {r[0] for r in conn.execute("SELECT advisory_id FROM aliases WHERE alias = ?", (advisory_id,))}
        if conn.execute("SELECT 1 FROM advisories WHERE id = ?", (advisory_id,)).fetchone():
            ids.add(advisory_id)
        return sorted(ids)

    def kev_entry(self, cve: str) -> dict[str, Any] | None:
        """The KEV catalogue entry of ``cve`` (CISA's field names), or None if not listed."""
        row = self._reader().execute("SELECT record FROM kev WHERE cve_id = ?", (cve.upper(),)).fetchone()
        return dict(json.loads(row[0])) if row else None

    def epss(self, cve: str) -> tuple[float, float] | None:
        """(EPSS probability, percentile) of ``cve``, or None when it has no score."""
        row = (
            self._reader()
            .execute("SELECT epss, percentile FROM epss WHERE cve = ?", (cve.upper(),))
            .fetchone()
        )
        return (float(row[0]), float(row[1])) if row else None

    def kev_entries(self, cves: Iterable[str]) -> dict[str, dict[str, Any]]:
        """KEV entries of many CVEs at once (upper-case CVE id → entry), for enrichment in bulk."""
        conn = self._reader()
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted({c.upper() for c in cves}), 500):
            marks = ",".join("?" * len(chunk))
            for cve, record in conn.execute(
                f"SELECT cve_id, record FROM kev WHERE cve_id IN ({marks})", chunk
            ):
                out[cve] = dict(json.loads(record))
        return out

    def epss_many(self, cves: Iterable[str]) -> dict[str, tuple[float, float]]:
        """EPSS (probability, percentile) of many CVEs at once (upper-case CVE id → scores)."""
        conn = self._reader()
        out: dict[str, tuple[float, float]] = {}
        for chunk in _chunks(sorted({c.upper() for c in cves}), 500):
            marks = ",".join("?" * len(chunk))
            for cve, score, pct in conn.execute(
                f"SELECT cve, epss, percentile FROM epss WHERE cve IN ({marks})", chunk
            ):
                out[cve] = (float(score), float(pct))
        return out

    def sources(self) -> list[str]:
        """The names of the data sources in the database (``osv:PyPI``, ``kev``, ``epss`` …)."""
        return [info.source for info in self._sources(self._reader())]

    def _sources(self, conn: sqlite3.Connection) -> tuple[SourceInfo, ...]:
        rows = conn.execute(
            "SELECT source, updated, count, location, version, released FROM meta ORDER BY source"
        )
        return tuple(SourceInfo(r[0], _parse_time(r[1]), r[2], r[3], r[4], r[5]) for r in rows)

    def last_updated(self) -> datetime | None:
        """When any source was last loaded (UTC), or None without a database."""
        if not self.exists:
            return None
        times = [s.updated for s in self._sources(self._reader()) if s.updated is not None]
        return max(times) if times else None

    def data_dates(self) -> tuple[datetime | None, datetime | None]:
        """(newest advisory ``modified``, KEV catalogue release date): how current the data is."""
        if not self.exists:
            return None, None
        conn = self._reader()
        kev = {s.source: s for s in self._sources(conn)}.get("kev")
        _per_eco, newest = _stats(conn)
        overall = newest[ALL] if ALL in newest else newest_modified(conn)
        return overall, (_parse_time(kev.released) if kev and kev.released else None)

    def ecosystems(self) -> list[str]:
        """Base ecosystems the stored advisories name (sorted); empty without a database."""
        if not self.exists:
            return []
        rows = self._reader().execute("SELECT DISTINCT ecosystem FROM affected ORDER BY ecosystem")
        return [r[0] for r in rows]

    def status(self) -> DbStatus:
        """What the database holds; ``exists=False`` (and zeros) when there is none."""
        if not self.exists:
            return DbStatus(path=self.path, exists=False)
        conn = self._reader()
        per_eco, newest_by_eco = _stats(conn)
        total, withdrawn = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(withdrawn != ''), 0) FROM advisories"
        ).fetchone()
        sources = self._sources(conn)
        by_name = {s.source: s for s in sources}
        kev = by_name.get("kev")
        epss = by_name.get("epss")
        times = [s.updated for s in sources if s.updated is not None]
        last = max(times) if times else None
        newest = newest_by_eco.get(ALL, None) if ALL in newest_by_eco else newest_modified(conn)
        return DbStatus(
            path=self.path,
            exists=True,
            schema_version=conn.execute("PRAGMA user_version").fetchone()[0],
            advisories=total,
            withdrawn=withdrawn,
            ecosystems=per_eco,
            kev_count=conn.execute("SELECT COUNT(*) FROM kev").fetchone()[0],
            kev_version=kev.version if kev else "",
            kev_released=kev.released if kev else "",
            epss_count=conn.execute("SELECT COUNT(*) FROM epss").fetchone()[0],
            epss_score_date=epss.released if epss else "",
            epss_model_version=epss.version if epss else "",
            sources=sources,
            last_updated=last,
            age=(datetime.now(UTC) - last) if last else None,
            advisories_modified=newest,
            kev_date=_parse_time(kev.released) if kev and kev.released else None,
            ages=source_ages(conn, _meta_rows(sources), per_eco, newest=newest_by_eco),
        )

    def source_ages(self, ecosystems: Iterable[str] | None = None) -> tuple[SourceAge, ...]:
        """The age of each source (only these ecosystems' OSV sources, when given); () without a database."""
        if not self.exists:
            return ()
        conn = self._reader()
        per_eco, newest = _stats(conn)
        return source_ages(conn, _meta_rows(self._sources(conn)), per_eco, only=ecosystems, newest=newest)

    def lookup(self, components: Iterable[Component]) -> list[Match]:
        """Every non-withdrawn advisory affecting each component that has a version.

        One :class:`Match` per (component, advisory), in the components' order and by advisory
        id; ``fixed`` holds the fixed versions of the matching ``affected[]`` entries. A
        component with no version but a range it reads (:mod:`mamori.advisories.spans`) matches
        only the advisories that affect every version the range allows (``kind="every-version"``).
        """
        conn = self._reader()
        from mamori.advisories.ranges import fixed_versions, is_affected
        from mamori.advisories.spans import Interval, affects_every_version, allowed_intervals

        wanted: dict[tuple[str, str], list[Component]] = {}
        order: list[Component] = []
        spans: dict[int, list[Interval]] = {}
        for comp in components:
            if not comp.version:
                allowed = allowed_intervals(base_ecosystem(comp.ecosystem), comp.range_spec)
                if not comp.range_spec or allowed is None:
                    continue
                spans[id(comp)] = allowed
            key = (base_ecosystem(comp.ecosystem), normalize_name(comp.ecosystem, comp.name))
            wanted.setdefault(key, []).append(comp)
            order.append(comp)
        if not wanted:
            return []
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (ecosystem TEXT, name TEXT)")
        conn.execute("DELETE FROM temp.wanted")
        conn.executemany("INSERT INTO temp.wanted VALUES (?, ?)", list(wanted))
        hits = conn.execute(
            "SELECT a.ecosystem, a.name, a.advisory_id, a.entry FROM temp.wanted w "
            "JOIN affected a ON a.ecosystem = w.ecosystem AND a.name = w.name"
        ).fetchall()
        conn.execute("DELETE FROM temp.wanted")
        ids = sorted({h[2] for h in hits})
        advisories: dict[str, Advisory] = {}
        missing = [i for i in ids if i not in self._cache]
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for adv_id, blob in conn.execute(
                f"SELECT id, record FROM advisories WHERE id IN ({marks})", chunk
            ):
                self._advisory(adv_id, blob)
        for adv_id in ids:
            adv = self._cache.get(adv_id)
            if adv is not None and not adv.withdrawn:
                advisories[adv_id] = adv
        by_key: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for eco, name, adv_id, entry in hits:
            if adv_id in advisories:
                by_key.setdefault((eco, name), []).append((adv_id, entry))
        affected_memo: dict[tuple[str, int, str], bool] = {}
        fixed_memo: dict[tuple[str, int], tuple[str, ...]] = {}
        results: dict[int, list[Match]] = {}
        for key, comps in wanted.items():
            entries = sorted(by_key.get(key, ()))
            if not entries:
                continue
            for comp in comps:
                found: dict[str, list[str]] = {}
                for adv_id, entry in entries:
                    adv = advisories[adv_id]
                    if entry >= len(adv.affected):
                        continue
                    aff: Affected = adv.affected[entry]
                    allowed = spans.get(id(comp))
                    memo_key = (adv_id, entry, comp.version or "range:" + comp.range_spec)
                    hit = affected_memo.get(memo_key)
                    if hit is None:
                        if allowed is not None:
                            hit = affects_every_version(aff, allowed)
                        else:
                            hit = is_affected(aff, comp.version)
                        affected_memo[memo_key] = hit
                    if not hit:
                        continue
                    fixed = fixed_memo.get((adv_id, entry))
                    if fixed is None:
                        fixed = tuple(fixed_versions(aff))
                        fixed_memo[(adv_id, entry)] = fixed
                    merged = found.setdefault(adv_id, [])
                    merged.extend(v for v in fixed if v not in merged)
                if found:
                    kind = "every-version" if id(comp) in spans else "exact"
                    results[id(comp)] = [
                        Match(comp, advisories[a], tuple(found[a]), kind) for a in sorted(found)
                    ]
        out: list[Match] = []
        seen: set[int] = set()
        for comp in order:
            if id(comp) in seen:
                continue
            seen.add(id(comp))
            out.extend(results.get(id(comp), ()))
        return out

    # ------------------------------------------------------------------ writing

    def _existing_version(self) -> int | None:
        """The schema version of the current file, None when there is none to copy."""
        if not self.path.exists():
            return None
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute("SELECT 1 FROM advisories LIMIT 1").fetchall()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"not a mamori advisory database ({exc}); delete it or set MAMORI_HOME elsewhere",
                path=str(self.path),
            ) from exc
        return version

    def _remove_stale_copies(self) -> None:
        """Delete temporary copies and download folders left by a killed run.

        A copy is named with the pid of the run that made it (``.advisories.sqlite.<pid>-….tmp``):
        it is stale as soon as that process is gone, and in any case after :data:`_STALE_AFTER`.
        """
        from mamori.sandbox import clean_stale, pid_alive

        cutoff = datetime.now(UTC).timestamp() - _STALE_AFTER.total_seconds()
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            owner = leftover.name[len(self.path.name) + 2 :].split("-", 1)[0]
            with contextlib.suppress(OSError):
                dead = owner.isdigit() and not pid_alive(int(owner))
                if dead or leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
        clean_stale(".mamori-download-", self.path.parent)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection to a temporary copy that replaces the database only on success.

        Writers are serialised by an exclusive lock on the database's folder held from reading the
        database to replacing it: two ``db import``/``db update`` at once run one after the other,
        so neither's records are lost (the second copies the database the first wrote).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._write_lock(), self._writing_locked() as conn:
            yield conn

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        # the folder is locked, not a file in it: the database itself is replaced (a lock on it
        # would be on the old file), and a lock file would be one more thing left behind
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process is killed
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _writing_locked(self) -> Iterator[sqlite3.Connection]:
        version = self._existing_version()
        self._remove_stale_copies()
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.{os.getpid()}-", suffix=".tmp", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        conn: sqlite3.Connection | None = None
        try:
            if version == SCHEMA_VERSION:
                shutil.copyfile(self.path, tmp)
            if version is not None:
                shutil.copymode(self.path, tmp)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            conn = sqlite3.connect(tmp, isolation_level=None)
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("BEGIN")
            yield conn
            _refresh_stats(conn)
            conn.execute("COMMIT")
            conn.close()
            conn = None
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            if conn is not None:
                conn.close()
            tmp.unlink(missing_ok=True)
        self.close()

    def _put(self, conn: sqlite3.Connection, record: Any, counts: _Counts) -> None:
        adv = parse_advisory(record)
        counts.records += 1
        row = conn.execute("SELECT modified FROM advisories WHERE id = ?", (adv.id,)).fetchone()
        if adv.id in counts.before:
            counts.repeats[adv.id] = counts.repeats.get(adv.id, 0) + 1
        else:
            counts.before[adv.id] = row[0] if row is not None else None
        if row is not None:
            if _later(row[0], adv.modified):
                return
            _delete_ids(conn, [adv.id])
        conn.execute(
            "INSERT INTO advisories (id, modified, withdrawn, record) VALUES (?, ?, ?, ?)",
            (adv.id, adv.modified, adv.withdrawn, _compress(record)),
        )
        rows = []
        for index, aff in enumerate(adv.affected):
            if aff.ecosystem and aff.name:
                eco = base_ecosystem(aff.ecosystem)
                counts.ecosystems.setdefault(eco, set()).add(counts.location)
                rows.append((eco, normalize_name(aff.ecosystem, aff.name), adv.id, index))
        conn.executemany("INSERT INTO affected VALUES (?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT OR IGNORE INTO aliases VALUES (?, ?)", [(alias, adv.id) for alias in adv.aliases]
        )
        counts.written[adv.id] = (adv.modified, bool(adv.withdrawn))

    def _put_document(self, conn: sqlite3.Connection, doc: Any, name: str, counts: _Counts) -> None:
        """Store a decoded JSON/YAML document: a record, a list of them, or ``{"vulns": [...]}``."""
        if isinstance(doc, dict) and "id" not in doc and isinstance(doc.get("vulns"), list):
            records: list[Any] = doc["vulns"]
        elif isinstance(doc, list):
            records = doc
        else:
            records = [doc]
        for index, record in enumerate(records):
            try:
                self._put(conn, record, counts)
            except ValueError as exc:
                where = f" (record {index + 1})" if len(records) > 1 else ""
                counts.error(name, f"not an OSV advisory{where}: {exc}")

    def _put_kev(self, conn: sqlite3.Connection, catalog: KevCatalog, location: str, counts: _Counts) -> None:
        conn.execute("DELETE FROM kev")
        conn.executemany(
            "INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.cve_id,
                    e.date_added,
                    e.due_date,
                    e.ransomware,
                    e.vendor,
                    e.product,
                    e.name,
                    e.short_description,
                    json.dumps(e.record, ensure_ascii=False),
                )
                for e in catalog.entries
            ],
        )
        _set_meta(conn, "kev", len(catalog.entries), location, catalog.version, catalog.released)
        counts.kev = len(catalog.entries)
        counts.errors.extend(catalog.errors)

    def _put_epss(self, conn: sqlite3.Connection, scores: EpssScores, location: str, counts: _Counts) -> None:
        conn.execute("DELETE FROM epss")
        conn.executemany(
            "INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?, ?)",
            [(cve, s, p, scores.score_date, scores.model_version) for cve, s, p in scores.rows],
        )
        _set_meta(conn, "epss", len(scores.rows), location, scores.model_version, scores.score_date)
        counts.epss = len(scores.rows)
        counts.errors.extend(scores.errors)

    def _import_file(
        self, conn: sqlite3.Connection, path: Path, counts: _Counts, progress: Progress | None
    ) -> None:
        name = str(path)
        lower = path.name.lower()
        try:
            if lower.endswith(".zip"):
                self._import_zip(conn, path, name, counts, progress)
                return
            if lower.endswith((".csv", ".csv.gz", ".gz")):
                counts.files += 1
                self._put_epss(conn, load_epss(path, name, self.limits.max_epss_bytes), name, counts)
                return
            if not lower.endswith(_OSV_SUFFIXES):
                counts.error(name, "unsupported file type (expected .json, .yaml, .yml, .zip, .csv, .csv.gz)")
                return
            counts.files += 1
            size = path.stat().st_size
            if size > self.limits.max_file_bytes:
                counts.error(name, f"file of {size} bytes exceeds the limit of {self.limits.max_file_bytes}")
                return
            data = path.read_bytes()
            doc = load_json(data, name) if lower.endswith(".json") else load_yaml(data, name)
            if is_kev_document(doc):
                self._put_kev(conn, parse_kev(doc, name), name, counts)
            else:
                self._put_document(conn, doc, name, counts)
        except ParseError as exc:
            counts.error(exc.path or name, exc.message, exc.line or 0)
        except OSError as exc:
            counts.error(name, f"cannot read: {exc.strerror or exc}")

    def _check_zip(self, archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
        """The JSON members of an archive, after refusing zip bombs by their declared sizes."""
        infos = archive.infolist()
        lim = self.limits
        if len(infos) > lim.max_zip_entries:
            raise ParseError(
                f"zip has {count(len(infos), 'entry')}, more than {lim.max_zip_entries}; refused", path=name
            )
        total = sum(i.file_size for i in infos)
        if total > lim.max_zip_total_bytes:
            raise ParseError(
                f"zip would inflate to {total} bytes, more than {lim.max_zip_total_bytes}; refused", path=name
            )
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > lim.max_zip_ratio * max(
                info.compress_size, 1
            ):
                raise ParseError(
                    f"zip member {info.filename} has compression ratio "
                    f"{info.file_size // max(info.compress_size, 1)}:1; refused as a zip bomb",
                    path=name,
                )
        return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".json")]

    def _read_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
        cap = self.limits.max_file_bytes
        if info.file_size > cap:
            raise ParseError(f"{info.file_size} bytes exceeds the limit of {cap}", path=label)
        out = bytearray()
        with archive.open(info) as member:
            while chunk := member.read(1024 * 1024):
                out += chunk
                if len(out) > cap:
                    raise ParseError(f"inflates beyond the limit of {cap} bytes; refused", path=label)
        return bytes(out)

    def _import_zip(
        self,
        conn: sqlite3.Connection,
        path: Path,
        name: str,
        counts: _Counts,
        progress: Progress | None,
        *,
        before: Callable[[], None] | None = None,
    ) -> bool:
        """Import the OSV JSON members of a zip; False (and an error) when the archive is refused."""
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            counts.error(name, f"not a readable zip archive: {exc}")
            return False
        with archive:
            try:
                members = self._check_zip(archive, name)
            except ParseError as exc:
                counts.error(name, exc.message)
                return False
            if before is not None:
                before()
            if progress is not None:
                progress.start(f"Importing {path.name}", len(members))
            for info in members:
                label = f"{name}!{info.filename}"
                counts.files += 1
                try:
                    data = self._read_member(archive, info, label)
                    doc = load_json(data, label)
                    if is_kev_document(doc):
                        self._put_kev(conn, parse_kev(doc, label), label, counts)
                    else:
                        self._put_document(conn, doc, label, counts)
                except ParseError as exc:
                    counts.error(exc.path or label, exc.message, exc.line or 0)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                    counts.error(label, f"cannot inflate: {exc}")
                if progress is not None:
                    progress.advance(1)
            if progress is not None:
                progress.finish()
        return True

    def import_paths(self, paths: Sequence[Path | str], progress: Progress | None = None) -> ImportSummary:
        """Import OSV files/folders/zips, a KEV catalogue and EPSS CSVs, atomically.

        Folders are searched recursively (hidden folders skipped). Bad files become errors in the
        summary and the rest is imported; an exception (including one raised by ``progress``)
        leaves the previous database untouched.
        """
        counts = _Counts()
        given: dict[Path, str] = {}  # each file (read once, however often it is named) -> its path given
        files_seen: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                found = _walk(path)
            elif path.is_file():
                found = [path]
            else:
                counts.error(str(path), "no such file or folder")
                continue
            for f in found:
                key = f.resolve()
                if key not in given:
                    given[key] = str(path)
                    files_seen.append(f)
        with self._writing() as conn:
            plain = [f for f in files_seen if not f.name.lower().endswith(".zip")]
            if plain and progress is not None:
                progress.start("Importing advisory files", len(plain))
            for path in plain:
                counts.location = given[path.resolve()]
                self._import_file(conn, path, counts, progress)
                if progress is not None:
                    progress.advance(1)
            if plain and progress is not None:
                progress.finish()
            for path in files_seen:
                if path.name.lower().endswith(".zip"):
                    counts.location = given[path.resolve()]
                    self._import_file(conn, path, counts, progress)
            for eco, where in sorted(counts.ecosystems.items()):
                _set_meta(conn, f"osv/{eco}", _count_ecosystem(conn, eco), ", ".join(sorted(where)))
        return counts.summary()

    def update(
        self,
        ecosystems: Sequence[str] = (),
        *,
        osv_url_template: str | None = None,
        kev_url: str | None = None,
        epss_url: str | None = None,
        progress: Progress | None = None,
    ) -> UpdateSummary:
        """Download OSV ``all.zip`` per ecosystem, the KEV catalogue and EPSS scores; store atomically.

        URLs default to :func:`default_urls`; an empty string skips that source. Without
        ``ecosystems``, the ones already stored are refreshed (or :data:`DEFAULT_ECOSYSTEMS`).
        Each ecosystem's advisories are replaced wholesale, so advisories withdrawn from the
        feed disappear. Everything is downloaded before the database is touched: a network
        failure raises :class:`~mamori.errors.ResourceUnavailable` and changes nothing.
        """
        osv_default, kev_default, epss_default = default_urls()
        template = osv_default if osv_url_template is None else osv_url_template
        kev_src = kev_default if kev_url is None else kev_url
        epss_src = epss_default if epss_url is None else epss_url
        names = [_canonical_ecosystem(e) for e in ecosystems] or self.ecosystems() or list(DEFAULT_ECOSYSTEMS)
        names = list(dict.fromkeys(names))
        if template and "{ecosystem}" not in template:
            raise InputError(f"the OSV URL template must contain {{ecosystem}}: {template}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        counts = _Counts()
        removed = 0
        per_eco: dict[str, int] = {}
        self._remove_stale_copies()
        with _download_folder(self.path.parent) as folder:
            jobs: list[tuple[str, str, Path]] = []
            if template:
                for eco in names:
                    url = template.replace("{ecosystem}", quote(eco, safe=""))
                    jobs.append((f"osv/{eco}", url, folder / f"osv-{len(jobs)}.zip"))
            if kev_src:
                jobs.append(("kev", kev_src, folder / "kev.json"))
            if epss_src:
                jobs.append(("epss", epss_src, folder / "epss.csv.gz"))
            for source, url, dest in jobs:
                download(
                    url,
                    dest,
                    description=f"Downloading {source}",
                    progress=progress,
                    max_bytes=self.limits.max_download_bytes,
                )
            with self._writing() as conn:
                for source, url, dest in jobs:
                    if source.startswith("osv/"):
                        eco = source[4:]
                        gone: list[str] = []

                        def wipe(eco: str = eco, gone: list[str] = gone) -> None:
                            ids = [
                                r[0]
                                for r in conn.execute(
                                    "SELECT DISTINCT advisory_id FROM affected WHERE ecosystem = ?", (eco,)
                                )
                            ]
                            _delete_ids(conn, ids)
                            gone.extend(ids)

                        counts.location = url
                        if self._import_zip(conn, dest, url, counts, progress, before=wipe):
                            fresh = {
                                r[0]
                                for r in conn.execute(
                                    "SELECT DISTINCT advisory_id FROM affected WHERE ecosystem = ?", (eco,)
                                )
                            }
                            removed += sum(1 for i in gone if i not in fresh)
                            per_eco[eco] = _count_ecosystem(conn, eco)
                            _set_meta(conn, source, per_eco[eco], url)
                    elif source == "kev":
                        self._import_json_source(conn, dest, url, counts)
                    else:
                        try:
                            self._put_epss(
                                conn, load_epss(dest, url, self.limits.max_epss_bytes), url, counts
                            )
                        except ParseError as exc:
                            counts.error(url, exc.message, exc.line or 0)
        return UpdateSummary(
            ecosystems=per_eco,
            removed=removed,
            kev=counts.kev,
            epss=counts.epss,
            sources=tuple(url for _, url, _ in jobs),
            errors=tuple(counts.errors),
        )

    def _import_json_source(self, conn: sqlite3.Connection, path: Path, url: str, counts: _Counts) -> None:
        try:
            size = path.stat().st_size
            if size > self.limits.max_file_bytes:
                raise ParseError(f"{size} bytes exceeds the limit of {self.limits.max_file_bytes}", path=url)
            doc = load_json(path.read_bytes(), url)
            self._put_kev(conn, parse_kev(doc, url), url, counts)
        except ParseError as exc:
            counts.error(exc.path or url, exc.message, exc.line or 0)


def _meta_rows(sources: Iterable[SourceInfo]) -> list[tuple[str, datetime | None, int, str, str, str]]:
    return [(s.source, s.updated, s.count, s.location, s.version, s.released) for s in sources]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _download_folder(parent: Path) -> Iterator[Path]:
    """A scratch folder for downloads, marked with this process (removed if a killed run left it)."""
    from mamori.sandbox import scratch_dir

    folder = scratch_dir(".mamori-download-", parent)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            lower = name.lower()
            if lower.endswith((*_OSV_SUFFIXES, ".zip", ".csv", ".csv.gz")) and not name.startswith("."):
                found.append(Path(root) / name)
    return found


def _delete_ids(conn: sqlite3.Connection, ids: list[str]) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for table, column in (("advisories", "id"), ("affected", "advisory_id"), ("aliases", "advisory_id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)


def _count_ecosystem(conn: sqlite3.Connection, eco: str) -> int:
    row = conn.execute(
        "SELECT COUNT(DISTINCT advisory_id) FROM affected WHERE ecosystem = ?", (eco,)
    ).fetchone()
    return int(row[0])


def _set_meta(
    conn: sqlite3.Connection, source: str, count: int, location: str, version: str = "", released: str = ""
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES (?, ?, ?, ?, ?, ?)",
        (source, _now(), count, location, version, released),
    )


def _canonical_ecosystem(name: str) -> str:
    """``pypi`` → ``PyPI``: osv.dev's bucket names are case-sensitive."""
    text = name.strip()
    if not text:
        raise InputError("an empty ecosystem name")
    for known in PURL_TYPES:
        if known.lower() == text.lower():
            return known
    return text
