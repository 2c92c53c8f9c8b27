"""What peers shared with us, kept locally: pulled STIX objects and the rules made of them.

``mamori share pull`` stores every object it receives in ``MAMORI_HOME/share.sqlite`` (one row
per object version) and remembers, per server and collection, the last ``date_added`` it saw,
so the next pull asks only for what is new. Indicators whose pattern is a disjunction of
equality tests on observables (IP addresses, domain names, URLs, file hashes) become detection
rules: :func:`indicator_matches` tells ``mamori detect`` which of them an event carries, so a
peer's sighting becomes a local alert. Vulnerabilities peers shared are looked up by advisory id
(:func:`peer_vulnerabilities`) to raise the priority of matching local findings.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.errors import InputError
from mamori.share.stix import Observable, observables_of

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (stix_id TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL,"
    " body TEXT NOT NULL, server TEXT NOT NULL, collection TEXT NOT NULL, pulled TEXT NOT NULL,"
    " PRIMARY KEY (stix_id, version))",
    "CREATE INDEX IF NOT EXISTS ix_objects_type ON objects (type)",
    "CREATE TABLE IF NOT EXISTS cursors (server TEXT NOT NULL, collection TEXT NOT NULL,"
    " last_added TEXT NOT NULL, PRIMARY KEY (server, collection))",
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_PATHS = {
    ("ipv4-addr", "value"): ("ipv4-addr", ""),
    ("ipv6-addr", "value"): ("ipv6-addr", ""),
    ("domain-name", "value"): ("domain-name", ""),
    ("url", "value"): ("url", ""),
    ("file", "hashes", "MD5"): ("file", "MD5"),
    ("file", "hashes", "SHA-1"): ("file", "SHA-1"),
    ("file", "hashes", "SHA-256"): ("file", "SHA-256"),
    ("file", "hashes", "SHA-512"): ("file", "SHA-512"),
}


@dataclass(frozen=True, slots=True)
class LocalIndicator:
    """A peer's indicator that ``mamori detect`` can apply: any of its observables is a hit."""

    id: str
    name: str
    pattern: str
    observables: tuple[Observable, ...]
    labels: tuple[str, ...] = ()
    source: str = ""
    """The server and collection it was pulled from."""


@dataclass(frozen=True, slots=True)
class IndicatorMatch:
    """An event carrying an observable of a peer's indicator."""

    indicator: LocalIndicator
    observable: Observable


MAX_PEER_PATTERN_CHARS = 64 << 10
"""The longest peer indicator pattern ``share pull`` stores and detection compiles: a hostile
peer's 8 MB pattern is refused unread instead of slowing every organisation's ``detect``."""


def anonymise_namespace() -> uuid.UUID:
    """This organisation's random UUID v5 namespace for ``share push --anonymise`` ids, made once
    and kept in ``MAMORI_HOME/anonymise-namespace`` (mode 0600): another organisation cannot
    recompute an anonymised object's id from a guess at who sent it."""
    from mamori.config import mamori_home

    path = mamori_home() / "anonymise-namespace"
    path.parent.mkdir(parents=True, exist_ok=True)
    ns = uuid.uuid4()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before (or by a push running now): keep it
        try:
            return uuid.UUID(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                "is not a UUID: remove it to make a new one (ids of earlier anonymised pushes then change)",
                path=str(path),
            ) from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{ns}\n")
    return ns


def local_db_path() -> Path:
    """``MAMORI_HOME/share.sqlite``."""
    from mamori.config import mamori_home

    return mamori_home() / "share.sqlite"


class LocalStore:
    """The local copy of peers' objects."""

    def __init__(self, path: Path | None = None) -> None:
        """Open (and create) the store at ``path`` (default :func:`local_db_path`)."""
        self.path = path or local_db_path()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        with self._conn:
            for stmt in _SCHEMA:
                self._conn.execute(stmt)

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    def add(
        self,
        objects: Iterable[Mapping[str, Any]],
        *,
        server: str,
        collection: str,
        refused: list[str] | None = None,
    ) -> int:
        """Store pulled objects (each version once); returns how many were new. An indicator
        whose pattern is over :data:`MAX_PEER_PATTERN_CHARS` is not stored (its id goes to
        ``refused``)."""
        now = datetime.now(UTC).isoformat()
        new = 0
        with self._conn:
            for o in objects:
                sid, typ = o.get("id"), o.get("type")
                if not isinstance(sid, str) or not isinstance(typ, str):
                    continue
                pattern = o.get("pattern")
                if isinstance(pattern, str) and len(pattern) > MAX_PEER_PATTERN_CHARS:
                    if refused is not None:
                        refused.append(sid[:200])
                    continue
                version = str(o.get("modified") or o.get("created") or "")
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sid, version, typ, json.dumps(o, sort_keys=True), server, collection, now),
                )
                new += cur.rowcount
        return new

    def cursor(self, server: str, collection: str) -> str | None:
        """The last ``date_added`` pulled from that collection, if any."""
        row = self._conn.execute(
            "SELECT last_added FROM cursors WHERE server = ? AND collection = ?", (server, collection)
        ).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, server: str, collection: str, last_added: str) -> None:
        """Remember where the next pull of that collection starts."""
        with self._conn:
            self._conn.execute(
                "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT (server, collection) DO UPDATE SET last_added = excluded.last_added",
                (server, collection, last_added),
            )

    def latest(self, stix_type: str) -> list[tuple[dict[str, Any], str]]:
        """The latest version of every stored object of a type, with where it came from."""
        rows = self._conn.execute(
            "SELECT body, server, collection FROM objects o WHERE type = ? AND version = "
            "(SELECT max(version) FROM objects p WHERE p.stix_id = o.stix_id) ORDER BY stix_id",
            (stix_type,),
        ).fetchall()
        return [(json.loads(body), f"{server} {collection}") for body, server, collection in rows]


def pattern_observables(pattern: str) -> tuple[Observable, ...] | None:
    """The observables of a pattern that is a disjunction of equality tests, else None."""
    from stix2patterns.v21.pattern import Pattern

    bare = _QUOTED.sub("''", pattern)
    if re.search(
        r"\b(AND|FOLLOWEDBY|WITHIN|REPEATS|START|STOP|NOT|MATCHES|LIKE|ISSUBSET|ISSUPERSET)\b", bare
    ):
        return None
    try:
        data = Pattern(pattern).inspect()
    except Exception:  # the pattern library raises plain exceptions on bad patterns
        return None
    out: list[Observable] = []
    for obj_type, comparisons in data.comparisons.items():
        for path, op, value in comparisons:
            key = (obj_type, *[str(p) for p in path])
            if key not in _PATHS:
                return None
            kind, hash_name = _PATHS[key]
            if op == "=":
                values = [value]
            elif op == "IN":
                values = _QUOTED.findall(value)
            else:
                return None
            for v in values:
                if not (v.startswith("'") and v.endswith("'")):
                    return None
                text = v[1:-1].replace("\\'", "'").replace("\\\\", "\\")
                out.append(Observable(kind, text.lower() if kind != "url" else text, hash_name))
    return tuple(out) or None


def _usable(ind: Mapping[str, Any], now: str) -> bool:
    if ind.get("revoked") is True or ind.get("pattern_type", "stix") != "stix":
        return False
    until = ind.get("valid_until")
    return not (isinstance(until, str) and until < now)


def local_indicators(
    store: LocalStore | None = None,
    *,
    max_pattern: int | None = MAX_PEER_PATTERN_CHARS,
    refused: list[str] | None = None,
) -> list[LocalIndicator]:
    """Peers' indicators that can run as local detection rules (latest version, not revoked or expired).

    A pattern longer than ``max_pattern`` characters (default :data:`MAX_PEER_PATTERN_CHARS`) is
    refused before it is parsed (its id goes to ``refused``): a hostile peer's 8 MB pattern
    costs nothing.
    """
    own = store is None
    st = store or LocalStore()
    try:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        out = []
        for ind, source in st.latest("indicator"):
            pattern = ind.get("pattern")
            if not isinstance(pattern, str) or not _usable(ind, now):
                continue
            if max_pattern is not None and len(pattern) > max_pattern:
                if refused is not None:
                    refused.append(f"{ind.get('id', '?')} from {source}")
                continue
            obs = pattern_observables(pattern)
            if obs is None:
                continue
            out.append(
                LocalIndicator(
                    id=str(ind["id"]),
                    name=str(ind.get("name") or ind["id"]),
                    pattern=pattern,
                    observables=obs,
                    labels=tuple(str(x) for x in ind.get("labels", []) if isinstance(x, str)),
                    source=source,
                )
            )
        return out
    finally:
        if own:
            st.close()


class IndicatorIndex:
    """Peers' indicators indexed by observable, for matching many events fast."""

    def __init__(self, indicators: Iterable[LocalIndicator]) -> None:
        """Index ``indicators`` by (kind, hash name, value)."""
        self._by: dict[tuple[str, str, str], list[LocalIndicator]] = {}
        for ind in indicators:
            for o in ind.observables:
                self._by.setdefault(_key(o), []).append(ind)

    def __len__(self) -> int:
        return len(self._by)

    def matches(self, event: Mapping[str, Any]) -> list[IndicatorMatch]:
        """The indicators whose observables ``event`` carries (each indicator once)."""
        if not self._by:
            return []
        seen: set[str] = set()
        out = []
        for o in observables_of(event):
            for ind in self._by.get(_key(o), ()):
                if ind.id not in seen:
                    seen.add(ind.id)
                    out.append(IndicatorMatch(ind, o))
        return out


def _key(o: Observable) -> tuple[str, str, str]:
    return (o.kind, o.hash_name, o.value if o.kind == "url" else o.value.lower())


_INDEX: tuple[float, IndicatorIndex] | None = None
_INDEX_LOCK = threading.Lock()


def indicator_matches(event: Mapping[str, Any]) -> list[IndicatorMatch]:
    """The peers' indicators an event matches (the store is re-read when a pull changed it)."""
    global _INDEX
    path = local_db_path()
    stamp = path.stat().st_mtime if path.exists() else -1.0
    with _INDEX_LOCK:
        if _INDEX is None or _INDEX[0] != stamp:
            _INDEX = (stamp, IndicatorIndex(local_indicators() if stamp >= 0 else []))
        index = _INDEX[1]
    return index.matches(event)


def peer_vulnerabilities(store: LocalStore | None = None) -> dict[str, list[str]]:
    """Advisory ids (CVE, GHSA, OSV) peers shared as vulnerabilities, with the names they gave.

    Prioritisation can raise a local finding whose ids appear here: a peer saw it matter.
    """
    own = store is None
    st = store or LocalStore()
    try:
        out: dict[str, list[str]] = {}
        for vuln, _source in st.latest("vulnerability"):
            for ref in vuln.get("external_references", []):
                if (
                    isinstance(ref, dict)
                    and isinstance(ref.get("external_id"), str)
                    and ref.get("source_name") != "cwe"
                ):
                    out.setdefault(ref["external_id"].upper(), []).append(str(vuln.get("name", "")))
        return out
    finally:
        if own:
            st.close()
