"""The W3C extended log format: IIS's default access log (and other servers that write it).

A file names its columns in a ``#Fields:`` directive (``#Fields: date time s-ip cs-method
cs-uri-stem cs-uri-query …``) and may repeat it after a restart with other columns; every other
line is one request, its values separated by spaces (IIS writes a space inside a value as ``+``
and an empty value as ``-``). Times are UTC (the format's rule). The request is mapped to the
same Sigma ``webserver`` field names as a combined-format access log (``cs-uri-stem``,
``cs-uri-query``, ``c-uri``, ``cs-method``, ``cs-user-agent`` …), so one rule reads both; every
column is also kept under its own lower-cased name (``s-ip``, ``time-taken``, ``sc-win32-status``).

The parser keeps the columns between lines, so a follower (``detect --follow``) keeps one per
file; before any ``#Fields:`` (a file whose header was rotated away) IIS's default columns apply.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote, unquote_plus

from mamori.detect._access import web_event
from mamori.detect._events import FieldValue, LogEvent, bad_time, epoch_or_none, iso_from_epoch

IIS_DEFAULT_FIELDS = (
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(user-agent)",
    "cs(referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
)
"""IIS's default W3C columns (IIS 8.5 and later), used until a ``#Fields:`` directive is read."""

MAX_FIELDS = 64
"""A ``#Fields:`` directive naming more columns than this is not believed (the default stays)."""

_DIRECTIVES = ("#Software:", "#Version:", "#Date:", "#Fields:", "#Start-Date:", "#End-Date:", "#Remark:")

# request headers IIS logs as cs(Name): the access-log reader's names for the same headers
_HEADERS = {"cs(user-agent)": "cs-user-agent", "cs(referer)": "cs-referer", "cs(cookie)": "cs-cookie"}


def is_w3c_line(line: str) -> bool:
    """Whether ``line`` is a W3C directive, the start every W3C log file has."""
    return line.startswith(_DIRECTIVES)


class W3CParser:
    """The lines of one W3C log: directives set the columns, requests become events."""

    def __init__(self) -> None:
        """Start with IIS's default columns."""
        self.fields: tuple[str, ...] = IIS_DEFAULT_FIELDS

    def directive(self, line: str) -> None:
        """Take in a ``#…`` line: ``#Fields:`` names the columns of the lines after it."""
        if line.startswith("#Fields:"):
            names = tuple(n.lower() for n in line[len("#Fields:") :].split())
            if names and len(names) <= MAX_FIELDS:
                self.fields = names

    def parse(self, line: str, path: str, record: int) -> LogEvent | None:
        """One request line as an event, or None when its values do not fit the columns."""
        values = line.split()
        if len(values) != len(self.fields):
            return None
        raw = {name: ("" if v == "-" else v) for name, v in zip(self.fields, values, strict=True)}
        stem = unquote(raw.get("cs-uri-stem", ""), errors="replace")
        query = raw.get("cs-uri-query", "")
        d_query = unquote_plus(query, errors="replace")
        uri = stem + ("?" + d_query if query else "")
        method = raw.get("cs-method", "")
        version = raw.get("cs-version", "")
        fields: dict[str, FieldValue] = {}
        for name, value in raw.items():
            if name in _HEADERS:
                fields[_HEADERS[name]] = value.replace("+", " ")
            elif name not in ("date", "time"):
                fields[name] = value
        t, shown, problem = _time(raw.get("date", ""), raw.get("time", ""))
        fields.update(
            {
                "date": shown or " ".join(x for x in (raw.get("date", ""), raw.get("time", "")) if x),
                "cs-method": method,
                "cs-uri-stem": stem,
                "cs-uri-query": d_query,
                "cs-uri": uri,
                "c-uri": uri,
                "cs-request": " ".join(
                    x for x in (method, stem + ("?" + query if query else ""), version) if x
                ),
            }
        )
        fields.setdefault("cs-user-agent", "")
        fields.setdefault("cs-referer", "")
        return web_event(path, record, fields, t, shown, raw.get("c-ip", ""), problem)


def _time(date: str, clock: str) -> tuple[float | None, str, str]:
    """(epoch, ISO text, problem) of a W3C ``date`` and ``time`` (UTC by the format's rule)."""
    if not date and not clock:
        return None, "", ""
    text = f"{date} {clock}".strip()
    if len(text) <= 40:
        for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
            try:
                d = datetime.strptime(text, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
            t = epoch_or_none(d.timestamp())
            if t is not None:
                return t, iso_from_epoch(t), ""
    return None, "", bad_time(text)
