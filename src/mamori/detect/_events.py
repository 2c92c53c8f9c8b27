"""Log events as the engine sees them, and the logsource each one belongs to.

Every reader turns its format into a :class:`LogEvent`: flat fields named as Sigma rules name
them (``Image``, ``CommandLine``, ``cs-uri-query`` …), a timestamp, and the :class:`Logsource`
(product, categories, services) that decides which rules apply. Which Windows channel and event
id make which Sigma category is data (``mappings/*.yaml``), not code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from mamori.detect._yaml import load_one

FieldValue = str | None | tuple[str | None, ...]
"""A flattened field: one string, JSON null, or the elements of a list."""


@dataclass(frozen=True, slots=True)
class Logsource:
    """Where an event comes from, in Sigma's terms.

    ``known`` is false when a reader cannot tell (a generic JSON line): then every rule is a
    candidate, whatever its logsource.
    """

    product: str | None = None
    categories: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    known: bool = False
    any_service: bool = False
    """True when the service cannot be told from the record (syslog: any program may write
    anything), so rules of every service of the product apply."""


UNKNOWN_LOGSOURCE = Logsource()


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One event of a log file, flattened."""

    path: str
    """The file it was read from (``-`` for stdin)."""
    record: int
    """1-based position of the event in its file."""
    fields: dict[str, FieldValue]
    logsource: Logsource = UNKNOWN_LOGSOURCE
    time: float | None = None
    """Seconds since the epoch (UTC), when the event carries a time."""
    timestamp: str = ""
    """The event time as ISO 8601 (UTC), or empty."""
    host: str = ""
    """The computer or host the event is about, when known (for the per-host summary)."""
    has_lists: bool = field(default=False, compare=False)
    """True when some field holds a list (the engine then uses its generic evaluator)."""
    problems: tuple[str, ...] = field(default=(), compare=False)
    """What was odd in the record (an impossible date kept as text …): the record is still
    matched, and the reader reports each problem as ``file:line: reason``."""


def iso_from_epoch(t: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with a ``Z`` (empty when out of datetime's range)."""
    try:
        return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (OverflowError, OSError, ValueError):
        return ""


_MIN_EPOCH = -62135596800.0  # 0001-01-01T00:00:00Z
_MAX_EPOCH = 253402300799.0  # 9999-12-31T23:59:59Z


def epoch_or_none(t: float) -> float | None:
    """``t`` when it is a time datetime can show (years 1-9999), else None."""
    return t if _MIN_EPOCH <= t <= _MAX_EPOCH else None


def parse_time(text: str) -> float | None:
    """Parse an ISO 8601 timestamp (``Z``, offsets, space separator, or no zone = UTC).

    None for anything that is not a real time (``Feb 31``, ``25:61``, year 0, offset +25:00).
    """
    s = text.strip()
    if not s or len(s) > 64:
        return None
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    try:
        d = datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return epoch_or_none(d.timestamp())
    except (ValueError, OverflowError, OSError):
        return None


def shown_time(text: str, t: float | None) -> str:
    """The time as the log wrote it when it carries its offset (``+09:00`` stays), else UTC ``Z``.

    ``text`` is the time text of the record, ``t`` its epoch seconds (None when unreadable).
    """
    if t is None:
        return ""
    s = text.strip()
    m = _OFFSET.search(s)
    if m and m.group().replace(":", "")[1:] != "0000":
        return s.replace(" ", "T", 1) if "T" not in s else s
    return iso_from_epoch(t)


_OFFSET = re.compile(r"[+-]\d\d:?\d\d$")


# --------------------------------------------------------------------------- mapping data


@dataclass(frozen=True, slots=True)
class WindowsMap:
    """The Windows logsource mapping loaded from ``mappings/windows.yaml``."""

    channel_services: dict[str, frozenset[str]]
    """Lower-cased channel -> Sigma services."""
    event_categories: dict[tuple[str, str], frozenset[str]]
    """(lower-cased channel, event id) -> Sigma categories."""
    aliases: dict[tuple[str, str], tuple[tuple[str, str], ...]]
    """(lower-cased channel, event id) -> (Sigma field, event field) pairs."""
    services: frozenset[str]
    categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class LinuxMap:
    """The Linux syslog/auditd mapping loaded from ``mappings/linux.yaml``."""

    programs: dict[str, frozenset[str]]
    syslog_service: str
    auditd_service: str
    services: frozenset[str]


def _load_yaml(name: str) -> dict[str, Any]:
    text = resources.files("mamori.detect").joinpath("mappings", name).read_text(encoding="utf-8")
    data = load_one(text)
    return data if isinstance(data, dict) else {}


@functools.cache
def windows_map() -> WindowsMap:
    """The Windows mapping (cached)."""
    data = _load_yaml("windows.yaml")
    channel_services: dict[str, set[str]] = {}
    for service, channels in (data.get("services") or {}).items():
        for ch in channels:
            channel_services.setdefault(str(ch).lower(), set()).add(str(service))
    event_categories: dict[tuple[str, str], set[str]] = {}
    for category, entries in (data.get("categories") or {}).items():
        for entry in entries:
            ch = str(entry["channel"]).lower()
            for eid in entry.get("event_ids", []):
                event_categories.setdefault((ch, str(eid)), set()).add(str(category))
    aliases: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for entry in data.get("field_aliases") or []:
        ch = str(entry["channel"]).lower()
        for eid in entry.get("event_ids", []):
            for sigma_name, event_name in (entry.get("fields") or {}).items():
                aliases.setdefault((ch, str(eid)), []).append((str(sigma_name), str(event_name)))
    return WindowsMap(
        channel_services={k: frozenset(v) for k, v in channel_services.items()},
        event_categories={k: frozenset(v) for k, v in event_categories.items()},
        aliases={k: tuple(v) for k, v in aliases.items()},
        services=frozenset(s for v in channel_services.values() for s in v),
        categories=frozenset(c for v in event_categories.values() for c in v),
    )


@functools.cache
def linux_map() -> LinuxMap:
    """The Linux mapping (cached)."""
    data = _load_yaml("linux.yaml")
    programs = {str(k).lower(): frozenset(str(s) for s in v) for k, v in (data.get("programs") or {}).items()}
    syslog_service = str(data.get("syslog_service", "syslog"))
    auditd_service = str(data.get("auditd_service", "auditd"))
    return LinuxMap(
        programs=programs,
        syslog_service=syslog_service,
        auditd_service=auditd_service,
        services=frozenset({syslog_service, auditd_service, *(s for v in programs.values() for s in v)}),
    )


@functools.cache
def _windows_logsource(channel: str, event_id: str) -> Logsource:
    m = windows_map()
    ch = channel.lower()
    return Logsource(
        product="windows",
        categories=m.event_categories.get((ch, event_id), frozenset()),
        services=m.channel_services.get(ch, frozenset()),
        known=True,
    )


@functools.cache
def syslog_logsource(program: str) -> Logsource:
    """The logsource of a syslog record written by ``program``."""
    m = linux_map()
    return Logsource(
        product="linux",
        services=frozenset({m.syslog_service, *m.programs.get(program.lower(), ())}),
        known=True,
        any_service=True,
    )


@functools.cache
def auditd_logsource() -> Logsource:
    """The logsource of a Linux auditd record."""
    return Logsource(product="linux", services=frozenset({linux_map().auditd_service}), known=True)


WEBSERVER_LOGSOURCE = Logsource(categories=frozenset({"webserver"}), known=True)
"""Access logs: category ``webserver`` of no particular product."""


# --------------------------------------------------------------------------- flattening


def _text(v: str) -> str:
    """``v`` with any lone surrogate (a JSON log may hold ``"\\ud800"``) made U+FFFD: such a
    string cannot be written as UTF-8, so an alert carrying it stopped ``-o`` and the results."""
    if v.isascii():
        return v
    return v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _scalar(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return _text(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        text = v.get("#text")
        if text is not None:
            return _scalar(text) if not isinstance(text, list) else " ".join(str(x) for x in text)
        return None
    return str(v)


def _put(out: dict[str, FieldValue], key: str, v: Any) -> bool:
    """Store a leaf; returns True when the value is a list."""
    key = _text(key)
    if key in out:
        return False
    if isinstance(v, list):
        out[key] = tuple(_scalar(x) for x in v)
        return True
    out[key] = _scalar(v)
    return False


def _flatten_leaves(d: Any, out: dict[str, FieldValue]) -> bool:
    """Windows XML-derived data: every leaf under its own (innermost) name."""
    lists = False
    if not isinstance(d, dict):
        return False
    for k, v in d.items():
        if k == "#attributes" and isinstance(v, dict):
            for ak, av in v.items():
                lists |= _put(out, ak, av)
        elif isinstance(v, dict) and "#text" not in v:
            lists |= _flatten_leaves(v, out)
        elif isinstance(v, dict):
            lists |= _put(out, k, v)
            attrs = v.get("#attributes")
            if isinstance(attrs, dict):
                for ak, av in attrs.items():
                    lists |= _put(out, f"{k}_{ak}", av)
        elif k != "xmlns":
            lists |= _put(out, k, v)
    return lists


def is_windows_record(obj: Any) -> bool:
    """True for the JSON that EVTX tools write (``Event.System`` …) or a flat Windows event."""
    if not isinstance(obj, dict):
        return False
    ev = obj.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):
        return True
    return "Channel" in obj and "EventID" in obj


def windows_event(obj: dict[str, Any], path: str, record: int) -> LogEvent:
    """Flatten a Windows event (evtx JSON layout, or already flat) into a :class:`LogEvent`."""
    out: dict[str, FieldValue] = {}
    lists = False
    ev = obj.get("Event")
    if isinstance(ev, dict) and isinstance(ev.get("System"), dict):
        system = ev["System"]
        for k, v in system.items():
            cls = v.__class__
            if cls is str:  # the common cases first, inlined: this runs for every event
                out[k] = v
            elif cls is int:
                out[k] = str(v)
            elif cls is dict:
                attrs = v.get("#attributes")
                if "#text" in v:
                    lists |= _put(out, k, v["#text"])
                if attrs.__class__ is dict:
                    for ak, av in attrs.items():
                        sv = av if av.__class__ is str else _scalar(av)
                        out.setdefault(f"{k}_{ak}", sv)
                        out.setdefault(ak, sv)
            elif v is None:
                out[k] = None
            else:
                lists |= _put(out, k, v)
        data = ev.get("EventData")
        if isinstance(data, dict):
            for k, v in data.items():
                cls = v.__class__
                if cls is str:  # the common case, inlined
                    if k not in out:
                        out[k] = v
                elif cls is int:
                    if k not in out:
                        out[k] = str(v)
                elif k == "#attributes":
                    continue
                elif isinstance(v, dict) and "#text" not in v:
                    lists |= _flatten_leaves(v, out)
                else:
                    lists |= _put(out, k, v)
        elif data is not None and not isinstance(data, dict):
            lists |= _put(out, "Data", data)
        user = ev.get("UserData")
        if isinstance(user, dict):
            lists |= _flatten_leaves(user, out)
        for k in ev:
            if k not in ("System", "EventData", "UserData", "#attributes") and isinstance(ev[k], dict):
                lists |= _flatten_leaves(ev[k], out)
    else:
        for k, v in obj.items():
            if isinstance(v, dict):
                lists |= _flatten_leaves(v, out)
            else:
                lists |= _put(out, k, v)
    for k in [k for k in out if " " in k]:
        out.setdefault(k.replace(" ", ""), out[k])  # Defender writes "Threat Name", rules say ThreatName
    channel = out.get("Channel")
    eid = out.get("EventID")
    channel_s = channel if isinstance(channel, str) else ""
    eid_s = eid if isinstance(eid, str) else ""
    ls = _windows_logsource(channel_s, eid_s)
    alias = windows_map().aliases.get((channel_s.lower(), eid_s))
    if alias:
        for sigma_name, event_name in alias:
            if sigma_name not in out and event_name in out:
                out[sigma_name] = out[event_name]
    ts = out.get("SystemTime") or out.get("TimeCreated_SystemTime") or ""
    ts_s = ts if isinstance(ts, str) else ""
    t = parse_time(ts_s) if ts_s else None
    host = out.get("Computer")
    return LogEvent(
        path=path,
        record=record,
        fields=out,
        logsource=ls,
        time=t,
        timestamp=(ts_s if ts_s.endswith("Z") else iso_from_epoch(t)) if t is not None else "",
        host=host if isinstance(host, str) else "",
        has_lists=lists,
        problems=(bad_time(ts_s),) if ts_s and t is None else (),
    )


def bad_time(text: str) -> str:
    """The problem reported for a time that is no real time (the record is still matched)."""
    shown = text if len(text) <= 80 else text[:80] + "…"
    return f"time {shown!r} is not a real time; kept as text, the record is still matched"


_TIME_KEYS = ("@timestamp", "timestamp", "time", "eventTime", "EventTime", "date", "datetime", "ts")
_HOST_KEYS = ("host.name", "hostname", "host", "Computer", "computer", "ComputerName")


def _flatten_dotted(obj: Any, prefix: str, out: dict[str, FieldValue]) -> bool:
    lists = False
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                lists |= _flatten_dotted(v, key, out)
            elif isinstance(v, list) and any(isinstance(x, dict) for x in v):
                for i, x in enumerate(v):
                    lists |= _flatten_dotted(x, f"{key}.{i}", out)
            else:
                lists |= _put(out, key, v)
    return lists


def json_event(obj: Any, path: str, record: int) -> LogEvent:
    """Flatten any JSON event: Windows layouts get Windows treatment, others dotted keys."""
    if is_windows_record(obj):
        return windows_event(obj, path, record)
    out: dict[str, FieldValue] = {}
    lists = _flatten_dotted(obj, "", out) if isinstance(obj, dict) else _put(out, "message", obj)
    t: float | None = None
    ts = ""
    problems: tuple[str, ...] = ()
    for k in _TIME_KEYS:
        v = out.get(k)
        if isinstance(v, str) and v:
            t = parse_time(v)
            if t is None and len(v) <= 32:
                try:
                    t = epoch_or_none(float(v))
                except ValueError:
                    t = None
            if t is None:
                problems = (bad_time(v),)
            ts = shown_time(v, t) if t is not None else ""
            break
    host = ""
    for k in _HOST_KEYS:
        v = out.get(k)
        if isinstance(v, str) and v:
            host = v
            break
    return LogEvent(
        path=path,
        record=record,
        fields=out,
        time=t,
        timestamp=ts,
        host=host,
        has_lists=lists,
        problems=problems,
    )
