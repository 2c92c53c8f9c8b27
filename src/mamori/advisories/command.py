"""``mamori db update|import|status``: the advisory database's commands.

Each prints readable text (default) or, with ``--format json``, one JSON object; never a Python
repr. Errors met on the way go to stderr with file and line. Data older than a week (by the
data's own dates, see :mod:`mamori.advisories.freshness`) earns a warning.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from mamori._text import count
from mamori.advisories.freshness import DATA_MAX_AGE, SourceAge, source_warnings
from mamori.advisories.store import AdvisoryStore, DbStatus, ImportSummary, UpdateSummary
from mamori.errors import InputError
from mamori.model import ScanError

err = Console(stderr=True, highlight=False)


class TextFormat(StrEnum):
    """Output of the db commands."""

    text = "text"
    json = "json"


FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="text or json.")]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def _errors(errors: tuple[ScanError, ...]) -> None:
    for e in errors:
        where = e.path + (f":{e.line}" if e.line else "")
        err.print(f"[red]error:[/] {escape(where)}: {escape(e.message)}")


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}")


def status_dict(status: DbStatus) -> dict[str, Any]:
    """The JSON form of ``mamori db status``."""
    return {
        "path": str(status.path),
        "exists": status.exists,
        "schema_version": status.schema_version,
        "advisories": status.advisories,
        "withdrawn": status.withdrawn,
        "ecosystems": dict(status.ecosystems),
        "advisories_modified": _iso(status.advisories_modified),
        "kev": {"count": status.kev_count, "version": status.kev_version, "released": status.kev_released},
        "epss": {
            "count": status.epss_count,
            "score_date": status.epss_score_date,
            "model_version": status.epss_model_version,
        },
        "last_loaded": _iso(status.last_updated),
        "sources": [
            {
                "source": s.source,
                "loaded": _iso(s.updated),
                "count": s.count,
                "location": s.location,
                "version": s.version,
                "released": s.released,
            }
            for s in status.sources
        ],
        "ages": [_age_dict(a) for a in status.ages],
        "max_age_days": DATA_MAX_AGE.days,
        "warnings": source_warnings(status.ages),
    }


def _age_dict(age: SourceAge) -> dict[str, Any]:
    delta = age.age()
    return {
        "source": age.source,
        "records": age.records,
        "data_date": _iso(age.data_date),
        "basis": age.basis,
        "age_days": delta.days if delta is not None else None,
        "stale": age.stale(),
        "loaded": _iso(age.loaded),
        "location": age.location,
    }


def _age_line(age: SourceAge) -> str:
    what = {"kev": "entry", "epss": "score"}.get(age.source, "advisory")
    head = f"  {age.source}: {count(age.records, what)}"
    if age.data_date is None:
        dated = "data date unknown"
    else:
        delta = age.age()
        days = delta.days if delta is not None else 0
        old = "today" if days <= 0 else ("1 day old" if days == 1 else f"{days:,} days old")
        verdict = "STALE" if age.stale() else "current"
        if age.stale() is False and delta is not None and delta > DATA_MAX_AGE:
            verdict = "current (downloaded from the feed this week)"
        label = {"kev": "released", "epss": "scores of"}.get(age.source, "newest modified")
        dated = f"{label} {_date(age.data_date)}, {old}: {verdict}"
    loaded = f"loaded {_when(age.loaded)}" + (f" from {age.location}" if age.location else "")
    return f"{head}; {dated}; {loaded}"


def status_text(status: DbStatus) -> str:
    """``mamori db status`` as lines a person reads."""
    lines = [f"Advisory database: {status.path}"]
    lines.append(f"Advisories: {status.advisories:,} ({status.withdrawn:,} withdrawn, never matched)")
    if status.ecosystems:
        width = max(len(e) for e in status.ecosystems)
        lines += [f"  {eco:<{width}}  {n:>9,}" for eco, n in sorted(status.ecosystems.items())]
    else:
        lines.append("  no ecosystem yet: run `mamori db update` or `mamori db import PATH`")
    if status.advisories_modified is not None:
        lines.append(f"Advisory data as of: {_date(status.advisories_modified)} (newest 'modified')")
    if status.kev_count:
        version = f" version {status.kev_version}" if status.kev_version else ""
        released = f", released {status.kev_released[:10]}" if status.kev_released else ""
        lines.append(f"CISA KEV: {count(status.kev_count, 'entry')}{version}{released}")
    else:
        lines.append("CISA KEV: none (exploited-in-the-wild marks are missing)")
    if status.epss_count:
        lines.append(
            f"FIRST EPSS: {count(status.epss_count, 'score')} of {status.epss_score_date or 'unknown date'}"
        )
    else:
        lines.append("FIRST EPSS: none (exploit probabilities are missing)")
    lines.append(
        f"Data age per source (by the data's own date; older than {DATA_MAX_AGE.days} days is stale):"
    )
    lines += [_age_line(a) for a in status.ages]
    return "\n".join(lines)


def import_dict(summary: ImportSummary) -> dict[str, Any]:
    """The JSON form of ``mamori db import``."""
    return {
        "files": summary.files,
        "advisories": summary.advisories,
        "unchanged": summary.unchanged,
        "withdrawn": summary.withdrawn,
        "kev": summary.kev,
        "epss": summary.epss,
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in summary.errors],
        "new": summary.new,
        "updated": summary.updated,
        "current": summary.current,
        "records": summary.records,
        "duplicates": summary.duplicates,
        "duplicate_ids": summary.duplicate_ids,
    }


def _count(n: int, one: str, many: str = "") -> str:
    """``1 file``, ``2,661 files``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def import_text(summary: ImportSummary) -> str:
    """``mamori db import`` in words, counted by distinct advisory id."""
    head = f"Imported {_count(summary.advisories, 'advisory', 'advisories')} from {_count(summary.files, 'file')}"
    if summary.advisories:
        head += (
            f" ({summary.new:,} new, {summary.updated:,} updated, "
            f"{summary.current:,} already stored with the same date)"
        )
    parts = [head]
    if summary.unchanged:
        parts.append(f"{summary.unchanged:,} kept (the database held a later version)")
    if summary.kev:
        parts.append(f"{summary.kev:,} CISA KEV entries")
    if summary.epss:
        parts.append(f"{summary.epss:,} EPSS scores")
    text = "; ".join(parts) + "."
    if summary.duplicates:
        text += (
            f" {count(summary.duplicates, 'record')} repeated an advisory already read in this import "
            f"({count(summary.duplicate_ids, 'advisory', 'advisories')} in several files or zip members): "
            "counted once, the latest 'modified' kept."
        )
    if summary.withdrawn:
        text += f" Withdrawn, never matched: {count(summary.withdrawn, 'stored advisory')}."
    if summary.errors:
        text += f" {_count(len(summary.errors), 'file')} could not be imported (listed on stderr)."
    return text


def update_dict(summary: UpdateSummary) -> dict[str, Any]:
    """The JSON form of ``mamori db update``."""
    return {
        "ecosystems": dict(summary.ecosystems),
        "removed": summary.removed,
        "kev": summary.kev,
        "epss": summary.epss,
        "sources": list(summary.sources),
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in summary.errors],
    }


def update_text(summary: UpdateSummary) -> str:
    """``mamori db update`` in words."""
    lines = ["Updated the advisory database:"]
    for eco, n in sorted(summary.ecosystems.items()):
        lines.append(f"  {eco}: {count(n, 'advisory')}")
    if summary.removed:
        lines.append(f"  {count(summary.removed, 'advisory')} no longer listed upstream were removed")
    lines.append(f"  CISA KEV: {count(summary.kev, 'entry')}; FIRST EPSS: {count(summary.epss, 'score')}")
    return "\n".join(lines)


def _emit(fmt: TextFormat, data: dict[str, Any], text: str) -> None:
    if fmt is TextFormat.json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(text)


def _store() -> AdvisoryStore:
    from mamori.config import advisory_db_path

    return AdvisoryStore(advisory_db_path())


def db_update_command(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem", "-e", help="OSV ecosystem to download (repeatable), e.g. PyPI, npm, Maven."
        ),
    ] = None,
    fmt: FormatOption = TextFormat.text,
) -> None:
    """Download OSV advisories (per ecosystem), the CISA KEV catalogue and FIRST EPSS scores.

    Without --ecosystem, refreshes the ecosystems already in the database (a default set for a
    new one). The download is atomic: a failed or interrupted update leaves the old database whole.
    URLs can be changed with MAMORI_OSV_URL (with {ecosystem}), MAMORI_KEV_URL and MAMORI_EPSS_URL.
    """
    from mamori._progress import RichProgress

    store = _store()
    with RichProgress(bytes_mode=True) as progress:
        summary = store.update(list(ecosystem or []), progress=progress)
    _emit(fmt, update_dict(summary), update_text(summary))
    _errors(summary.errors)
    for w in source_warnings(store.source_ages()):
        _warn(w)


def db_import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="OSV .json/.yaml files, folders, osv.dev all.zip files, KEV .json, EPSS .csv(.gz)."
        ),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 if any file could not be imported.")
    ] = False,
    fmt: FormatOption = TextFormat.text,
) -> None:
    """Import advisory data from local files (offline). Atomic: a failed import changes nothing."""
    from mamori._progress import RichProgress

    for p in paths:
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
    store = _store()
    with RichProgress() as progress:
        summary = store.import_paths(paths, progress=progress)
    _emit(fmt, import_dict(summary), import_text(summary))
    _errors(summary.errors)
    for w in source_warnings(store.source_ages()):
        _warn(w)
    if strict and summary.errors:
        raise typer.Exit(2)


def db_status_command(fmt: FormatOption = TextFormat.text) -> None:
    """Show what is in the advisory database and how current each source's data is.

    Per source, by the data's own date (not when it was imported): each OSV ecosystem's newest
    'modified', the CISA KEV catalogue's release date, the FIRST EPSS scores' date; each with when
    and from where it was loaded. A source older than a week is warned about (one downloaded by
    `db update` within the week is current). Exit 3 when there is no database.
    """
    store = _store()
    status = store.status()
    if not status.exists:
        if fmt is TextFormat.json:
            typer.echo(json.dumps(status_dict(status), indent=2))
        err.print(
            f"no advisory database at {escape(str(store.path))}: run `mamori db update` (online) "
            "or `mamori db import PATH` (offline)"
        )
        raise typer.Exit(3)
    _emit(fmt, status_dict(status), status_text(status))
    for w in source_warnings(status.ages):
        _warn(w)
