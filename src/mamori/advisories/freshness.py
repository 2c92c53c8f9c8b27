"""How current the advisory data is: the data's own dates, not when it was imported.

A database imported today from a year-old OSV export is a year old. Its age is the newest
``modified`` among its advisories and the KEV catalogue's own release date; either older than
:data:`DATA_MAX_AGE` earns a warning in ``mamori db status`` and in every scan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DATA_MAX_AGE = timedelta(days=7)
"""Advisory or KEV data older than this is called stale."""


def _days(delta: timedelta) -> str:
    days = delta.days
    return "1 day" if days == 1 else f"{days} days"


def stale_warnings(
    advisories_modified: datetime | None, kev_date: datetime | None, *, now: datetime | None = None
) -> list[str]:
    """One sentence per data source older than :data:`DATA_MAX_AGE`, saying what to do."""
    now = now or datetime.now(UTC)
    out: list[str] = []
    if advisories_modified is not None and now - advisories_modified > DATA_MAX_AGE:
        out.append(
            f"the advisory data is {_days(now - advisories_modified)} old (newest advisory modified "
            f"{advisories_modified.date().isoformat()}): advisories published since are not "
            "checked; run `mamori db update` or import a newer export"
        )
    if kev_date is not None and now - kev_date > DATA_MAX_AGE:
        out.append(
            f"the CISA KEV catalogue is {_days(now - kev_date)} old (released "
            f"{kev_date.date().isoformat()}): vulnerabilities exploited since are not marked; "
            "run `mamori db update` or import a newer catalogue"
        )
    return out
