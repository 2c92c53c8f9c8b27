"""How current the advisory data is: the data's own dates, not when it was imported.

A database imported today from a year-old OSV export is a year old. Each source has its own
date: an OSV ecosystem's is the newest ``modified`` among its advisories, the KEV catalogue's its
release date (``dateReleased``), EPSS's the date of its scores. A source whose date is older than
:data:`DATA_MAX_AGE` earns a warning in ``mamori db status`` and in every scan of its ecosystem.

One exception keeps a quiet ecosystem from being called stale: a source downloaded from its
feed (``mamori db update``) within the week is current as of the download, whatever the date of
its newest record. An imported file gives no such evidence: only its records' dates count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mamori.advisories.osv import parse_timestamp

DATA_MAX_AGE = timedelta(days=7)
"""Data older than this is called stale."""


def _days(delta: timedelta) -> str:
    days = delta.days
    return "1 day" if days == 1 else f"{days} days"


@dataclass(frozen=True, slots=True)
class SourceAge:
    """The age of one source of the database: ``osv/PyPI``, ``kev`` or ``epss``."""

    source: str
    records: int
    """Advisories (of the ecosystem), KEV entries or EPSS scores stored."""
    data_date: datetime | None
    """The data's own date (see the module's text); None when unknown."""
    basis: str
    """What :attr:`data_date` is, in words (``newest advisory modified``, ``catalogue released``…)."""
    loaded: datetime | None = None
    """When it was last imported or downloaded."""
    location: str = ""
    """The files or URL it was loaded from."""
    version: str = ""

    @property
    def downloaded(self) -> bool:
        """True when the source came from a feed's URL (``mamori db update``), not a local file."""
        return self.location.startswith(("https://", "http://"))

    def age(self, now: datetime | None = None) -> timedelta | None:
        """Time since :attr:`data_date`."""
        return None if self.data_date is None else (now or datetime.now(UTC)) - self.data_date

    def stale(self, now: datetime | None = None) -> bool:
        """True when the data is older than :data:`DATA_MAX_AGE` (see the module's exception)."""
        now = now or datetime.now(UTC)
        age = self.age(now)
        if age is None or age <= DATA_MAX_AGE:
            return False
        return not (self.downloaded and self.loaded is not None and now - self.loaded <= DATA_MAX_AGE)

    def warning(self, now: datetime | None = None) -> str | None:
        """The sentence a stale source earns, saying what is missed and what to do; else None."""
        now = now or datetime.now(UTC)
        if not self.stale(now) or self.data_date is None:
            return None
        old = _days(now - self.data_date)
        day = self.data_date.date().isoformat()
        if self.source.startswith("osv/"):
            eco = self.source[4:]
            return (
                f"the {eco} advisory data is {old} old (newest {eco} advisory modified {day}): "
                f"{eco} advisories published since are not checked; run `mamori db update -e {eco}` "
                "or import a newer export"
            )
        if self.source == "kev":
            return (
                f"the CISA KEV catalogue is {old} old (released {day}): vulnerabilities exploited "
                "since are not marked; run `mamori db update` or import a newer catalogue"
            )
        return (
            f"the FIRST EPSS scores are {old} old (scores of {day}): exploit probabilities may have "
            "changed since; run `mamori db update` or import a newer file"
        )


def source_warnings(
    ages: Iterable[SourceAge], *, ecosystems: Iterable[str] | None = None, now: datetime | None = None
) -> list[str]:
    """One sentence per stale source; with ``ecosystems``, only their OSV sources (and KEV, EPSS)."""
    wanted = None if ecosystems is None else {f"osv/{e.split(':', 1)[0]}" for e in ecosystems}
    out: list[str] = []
    for age in ages:
        if wanted is not None and age.source.startswith("osv/") and age.source not in wanted:
            continue
        text = age.warning(now)
        if text:
            out.append(text)
    return out


def newest_modified(conn: sqlite3.Connection, ecosystem: str | None = None) -> datetime | None:
    """The newest ``modified`` among the (live) advisories, of one base ecosystem or of all.

    A time claimed in the future (a clock error or a hostile feed) is ignored: it must not make
    the data look current.
    """
    limit = datetime.now(UTC) + timedelta(days=1)
    if ecosystem is None:
        rows = conn.execute(
            "SELECT DISTINCT modified FROM advisories WHERE withdrawn = '' ORDER BY modified DESC"
        )
    else:
        rows = conn.execute(
            "SELECT DISTINCT v.modified FROM affected a JOIN advisories v ON v.id = a.advisory_id "
            "WHERE a.ecosystem = ? AND v.withdrawn = '' ORDER BY v.modified DESC",
            (ecosystem,),
        )
    best: datetime | None = None
    for (text,) in rows:
        when = parse_timestamp(text) if text else None
        if when is None or when > limit:
            continue
        if best is None or when > best:
            best = when
        if best is not None and text[:4].isdigit() and best.year > int(text[:4]):
            break  # ISO strings sort by year first: nothing below can be newer
    return best


def _parse(text: str) -> datetime | None:
    if not text:
        return None
    when = parse_timestamp(text)
    if when is None and len(text) == 10:  # EPSS's score date: YYYY-MM-DD
        when = parse_timestamp(text + "T00:00:00Z")
    return when


def source_ages(
    conn: sqlite3.Connection,
    meta: Sequence[tuple[str, datetime | None, int, str, str, str]],
    ecosystems: dict[str, int],
    *,
    only: Iterable[str] | None = None,
    newest: Mapping[str, datetime | None] | None = None,
) -> tuple[SourceAge, ...]:
    """The age of every source: each OSV ecosystem stored, KEV and EPSS when loaded.

    ``meta`` holds the database's ``(source, loaded, count, location, version, released)`` rows,
    ``ecosystems`` the advisories stored per base ecosystem; ``only`` limits the OSV sources to
    those ecosystems (a scan asks about its inventory's); ``newest`` the newest ``modified`` per
    ecosystem when the database keeps it (computed here otherwise).
    """
    rows = {m[0]: m for m in meta}
    wanted = None if only is None else {e.split(":", 1)[0] for e in only}
    out: list[SourceAge] = []
    for eco in sorted(ecosystems):
        if wanted is not None and eco not in wanted:
            continue
        row = rows.get(f"osv/{eco}")
        out.append(
            SourceAge(
                f"osv/{eco}",
                ecosystems[eco],
                newest[eco] if newest is not None and eco in newest else newest_modified(conn, eco),
                "newest advisory modified",
                loaded=row[1] if row else None,
                location=row[3] if row else "",
            )
        )
    for name, basis in (("kev", "catalogue released"), ("epss", "scores of")):
        row = rows.get(name)
        if row is not None:
            out.append(
                SourceAge(name, row[2], _parse(row[5]), basis, loaded=row[1], location=row[3], version=row[4])
            )
    return tuple(out)
