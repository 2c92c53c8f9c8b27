"""Parsers for the two exploit-likelihood feeds: CISA KEV (JSON) and FIRST EPSS (CSV).

KEV says a CVE *is* exploited in the wild; EPSS estimates the probability that it will be in
the next 30 days. Prioritisation weighs both, so the store keeps them beside the advisories.
Both feeds are complete snapshots: an import replaces the previous one wholesale.

Formats:

* KEV: ``{"catalogVersion": …, "dateReleased": …, "vulnerabilities": [{"cveID": …}, …]}``
  (https://www.cisa.gov/known-exploited-vulnerabilities-catalog; schema in cisagov/kev-data).
* EPSS: ``#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000`` then the header
  ``cve,epss,percentile`` and one row per CVE (https://www.first.org/epss/data_stats), usually
  gzip-compressed. Decompression is capped so a gzip bomb cannot fill memory.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamori.errors import ParseError
from mamori.model import ScanError

MAX_EPSS_BYTES = 512 * 1024 * 1024
"""The largest decompressed EPSS CSV accepted (the real one is about 10 MB)."""

MAX_ERRORS_PER_FILE = 50
"""Bad rows reported per file before the rest are only counted."""

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KevEntry:
    """One catalogue entry, with its CISA field names kept in :attr:`record`."""

    cve_id: str
    vendor: str
    product: str
    name: str
    date_added: str
    due_date: str
    ransomware: str
    """``knownRansomwareCampaignUse``: ``Known`` or ``Unknown``."""
    short_description: str
    record: Mapping[str, Any]
    """The entry as CISA publishes it."""


@dataclass(frozen=True, slots=True)
class KevCatalog:
    """A parsed KEV catalogue."""

    version: str
    released: str
    entries: tuple[KevEntry, ...]
    errors: tuple[ScanError, ...] = ()


@dataclass(frozen=True, slots=True)
class EpssScores:
    """A parsed EPSS file: (cve, epss, percentile) rows and the model that made them."""

    model_version: str
    score_date: str
    rows: tuple[tuple[str, float, float], ...]
    errors: tuple[ScanError, ...] = ()


def is_kev_document(doc: Any) -> bool:
    """True for a KEV catalogue: a mapping whose ``vulnerabilities`` entries carry ``cveID``."""
    if not isinstance(doc, Mapping):
        return False
    vulns = doc.get("vulnerabilities")
    if not isinstance(vulns, list):
        return False
    return any(isinstance(v, Mapping) and "cveID" in v for v in vulns[:10]) or (
        not vulns and "catalogVersion" in doc
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_kev(doc: Any, path: str) -> KevCatalog:
    """The catalogue in a decoded KEV JSON document; entries without a CVE id become errors."""
    if not is_kev_document(doc):
        raise ParseError("not a CISA KEV catalogue (no 'vulnerabilities' with 'cveID')", path=path)
    entries: dict[str, KevEntry] = {}
    errors: list[ScanError] = []
    for index, raw in enumerate(doc["vulnerabilities"]):
        cve = _text(raw.get("cveID")) if isinstance(raw, Mapping) else ""
        if not isinstance(raw, Mapping) or not _CVE.match(cve):
            if len(errors) < MAX_ERRORS_PER_FILE:
                errors.append(ScanError(path, f"vulnerabilities[{index}]: no valid cveID"))
            continue
        cve = cve.upper()
        entries[cve] = KevEntry(
            cve_id=cve,
            vendor=_text(raw.get("vendorProject")),
            product=_text(raw.get("product")),
            name=_text(raw.get("vulnerabilityName")),
            date_added=_text(raw.get("dateAdded")),
            due_date=_text(raw.get("dueDate")),
            ransomware=_text(raw.get("knownRansomwareCampaignUse")),
            short_description=_text(raw.get("shortDescription")),
            record=dict(raw),
        )
    return KevCatalog(
        version=_text(doc.get("catalogVersion")),
        released=_text(doc.get("dateReleased")),
        entries=tuple(entries.values()),
        errors=tuple(errors),
    )


def read_capped(path: Path, limit: int = MAX_EPSS_BYTES) -> bytes:
    """The bytes of ``path``, gunzipped when it is gzip (by magic), refusing more than ``limit``."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream: io.BufferedIOBase = raw
        if magic == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=raw)
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise ParseError(f"more than {limit} bytes once decompressed; refused", path=str(path))
                chunks.append(chunk)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ParseError(f"cannot decompress: {exc}", path=str(path)) from exc
    return b"".join(chunks)


def _header_fields(line: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in line.lstrip("#").split(","):
        key, sep, value = part.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _probability(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def parse_epss(lines: Iterable[str], path: str) -> EpssScores:
    """Parse EPSS CSV lines (FIRST layout); bad rows become errors with their 1-based line."""
    model_version = score_date = ""
    errors: list[ScanError] = []
    rows: dict[str, tuple[str, float, float]] = {}
    columns: dict[str, int] | None = None
    bad = 0
    reader = csv.reader(lines)
    for row in reader:
        line = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if columns is None and row[0].startswith("#"):
            fields = _header_fields(",".join(row))
            model_version = fields.get("model_version", model_version)
            score_date = fields.get("score_date", score_date)
            continue
        if columns is None:
            names = [cell.strip().lower() for cell in row]
            if not {"cve", "epss", "percentile"} <= set(names):
                raise ParseError(
                    "not an EPSS file: expected the header cve,epss,percentile", path=path, line=line
                )
            columns = {name: names.index(name) for name in ("cve", "epss", "percentile")}
            continue
        try:
            cve = row[columns["cve"]].strip().upper()
            score = _probability(row[columns["epss"]].strip())
            percentile = _probability(row[columns["percentile"]].strip())
        except IndexError:
            cve, score, percentile = "", None, None
        if not _CVE.match(cve) or score is None or percentile is None:
            bad += 1
            if len(errors) < MAX_ERRORS_PER_FILE:
                errors.append(ScanError(path, f"bad EPSS row: {','.join(row)[:80]!r}", line))
            continue
        rows[cve] = (cve, score, percentile)
    if columns is None:
        raise ParseError("not an EPSS file: no cve,epss,percentile header", path=path)
    if bad > len(errors):
        errors.append(ScanError(path, f"{bad - len(errors)} more bad EPSS rows not listed"))
    return EpssScores(model_version, score_date, tuple(rows.values()), tuple(errors))


def load_epss(path: Path, display: str, limit: int = MAX_EPSS_BYTES) -> EpssScores:
    """Read and parse an EPSS ``.csv`` or ``.csv.gz`` file (decompression capped at ``limit``)."""
    data = read_capped(path, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text: {exc}", path=display) from exc
    try:
        return parse_epss(io.StringIO(text, newline=""), display)
    except csv.Error as exc:
        raise ParseError(f"invalid CSV: {exc}", path=display) from exc
