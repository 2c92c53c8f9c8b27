"""Access logs in the common and combined formats (Apache, nginx, Tomcat …).

Mapped to Sigma's ``webserver`` field names (``cs-uri-stem``, ``cs-uri-query`` URL-decoded,
``c-uri``, ``cs-method``, ``cs-user-agent`` …); the time keeps its own offset. A server that
does not escape quotes in the request is read too (:data:`_ACCESS_LOOSE`).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, unquote_plus

from mamori.detect._events import (
    WEBSERVER_LOGSOURCE,
    FieldValue,
    LogEvent,
    bad_time,
    epoch_or_none,
    iso_from_epoch,
)

# Quantifiers over quoted text are possessive (``*+``): there is one way to match them, and a
# backtracking loop would keep a frame per character (hundreds of MB for a 1 MiB request).
_ACCESS = re.compile(
    r'^(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]++|\\.)*+)" '
    r'(?P<status>\d{3}|-) (?P<size>\d+|-)(?: "(?P<referer>(?:[^"\\]++|\\.)*+)" "(?P<ua>(?:[^"\\]++|\\.)*+)")?'
    r'(?: "?(?P<extra>.*))?$'
)
# A server that does not escape quotes (Tomcat's AccessLogValve) logs ``"GET /x?q="><script>
# HTTP/1.1"``: the request is then taken up to the first `` HTTP/n" status size`` after the
# method — found lazily, and the rest of the pattern cannot fail once that is found, so the
# match stays linear — rather than the line falling to plain text, where the field rules miss it.
_ACCESS_LOOSE = re.compile(
    r"^(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<request>[A-Za-z]{1,20} .*? HTTP/\d(?:\.\d)?)" (?P<status>\d{3}|-) (?P<size>\d+|-)'
    r'(?: "(?P<referer>(?:[^"\\]++|\\.)*+)" "(?P<ua>(?:[^"\\]++|\\.)*+)")?(?: "?(?P<extra>.*))?$'
)


_STAMP = re.compile(r"(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2}):?(\d{2})\Z")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


@functools.lru_cache(maxsize=8192)
def _access_when(text: str) -> tuple[float | None, str]:
    """(epoch, shown) of ``10/Oct/2024:13:55:36 +0900``: shown as ``2024-10-10T13:55:36+09:00``
    (its own offset kept; UTC as ``Z``), ``(None, "")`` when it is no real time. Parsed once per
    distinct text: a busy log repeats each second's stamp on many lines, and ``strptime`` was a
    sixth of a detect run."""
    if len(text) > 40:
        return None, ""
    try:
        m = _STAMP.match(text)
        month = _MONTHS.get(m.group(2).lower()) if m else None
        if m is not None and month is not None:  # the common form, without strptime's cost
            sign = -1 if m.group(7) == "-" else 1
            zone = timezone(sign * timedelta(hours=int(m.group(8)), minutes=int(m.group(9))))
            hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
            d = datetime(int(m.group(3)), month, int(m.group(1)), hour, minute, second, tzinfo=zone)
        else:
            d = datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")
        t = epoch_or_none(d.timestamp())
    except (ValueError, OverflowError, OSError):
        return None, ""
    if t is None:
        return None, ""
    return t, (d.isoformat() if d.utcoffset() else iso_from_epoch(t))


def is_access_line(line: str) -> bool:
    """Whether ``line`` is in an access-log shape (strict, or with an unescaped quote)."""
    return _ACCESS.match(line) is not None or _ACCESS_LOOSE.match(line) is not None


def parse_access(line: str, path: str, record: int) -> LogEvent | None:
    """One access-log line (common or combined) mapped to Sigma's webserver field names."""
    m = _ACCESS.match(line) or _ACCESS_LOOSE.match(line)
    if m is None:
        return None
    request = m.group("request")
    parts = request.split(" ")
    method, target, version = "", request, ""
    if len(parts) >= 3 and parts[-1].startswith("HTTP/"):
        method, target, version = parts[0], " ".join(parts[1:-1]), parts[-1]
    elif len(parts) == 2:
        method, target = parts
    stem, _, query = target.partition("?")
    d_stem = unquote(stem, errors="replace")
    d_query = unquote_plus(query, errors="replace")
    t, shown = _access_when(m.group("time"))
    fields: dict[str, FieldValue] = {
        "c-ip": m.group("ip"),
        "cs-username": m.group("user"),
        "date": shown or m.group("time"),
        "cs-method": method,
        "cs-uri": d_stem + ("?" + d_query if query else ""),
        "c-uri": d_stem + ("?" + d_query if query else ""),
        "cs-uri-stem": d_stem,
        "cs-uri-query": d_query,
        "cs-version": version,
        "sc-status": m.group("status"),
        "sc-bytes": m.group("size"),
        "cs-referer": (m.group("referer") or "").replace('\\"', '"'),
        "cs-user-agent": (m.group("ua") or "").replace('\\"', '"'),
        "cs-request": request,
    }
    return web_event(
        path, record, fields, t, shown, m.group("ip"), bad_time(m.group("time")) if t is None else ""
    )


def web_event(
    path: str,
    record: int,
    fields: dict[str, FieldValue],
    t: float | None,
    shown: str,
    host: str,
    problem: str,
) -> LogEvent:
    """A web server's request as an event of Sigma's ``webserver`` category (access and W3C logs)."""
    return LogEvent(
        path=path,
        record=record,
        fields=fields,
        logsource=WEBSERVER_LOGSOURCE,
        time=t,
        timestamp=shown,
        host=host,
        problems=(problem,) if problem else (),
    )
