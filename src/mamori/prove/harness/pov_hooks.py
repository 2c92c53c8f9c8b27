"""Sink observation inside the application's process (runs under the app's interpreter).

This module is part of the PoV harness: it is mounted read-only into the sandbox and imported
by ``pov_main.py`` with the application's own interpreter, so it uses the standard library
only and never imports mamori. It installs one ``sys.addaudithook`` and a few wrappers at
modelled sinks (DB-API ``execute``, LDAP searches, XPath evaluation) and records every event
whose arguments carry the current request's canary, with the application frame that caused it.

Events that would act on the outside world with a canary in them (spawning a process,
resolving or connecting to the canary host, writing a file named by the canary, importing the
canary module) are recorded and then refused by raising from the hook: a proof observes the
sink call, it never needs the side effect. The sandbox around the process is the real
boundary; this refusal only keeps the proof harmless inside it.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

_STATE = types.SimpleNamespace(marks=[], events=[])
"""One request at a time: shared by every thread (ASGI apps run sync views in worker threads)."""
_ROOT = ""
_MAX_VALUE = 2000

SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.popen"}
NET_EVENTS = {
    "socket.getaddrinfo",
    "socket.connect",
    "socket.gethostbyname",
    "http.client.connect",
    "urllib.Request",
}
FILE_EVENTS = {
    "open",
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.rmdir",
    "os.chmod",
    "shutil.copyfile",
    "os.listdir",
    "os.scandir",
}


class Refused(PermissionError):
    """Raised by the hook to stop a side effect the canary asked for."""


def begin(marks: list[str]) -> None:
    """Start recording events that carry any of ``marks`` (the request's canaries)."""
    _STATE.marks = [m for m in marks if m]
    _STATE.events = []


def end() -> list[dict[str, Any]]:
    """Stop recording and return what was seen."""
    events: list[dict[str, Any]] = getattr(_STATE, "events", [])
    _STATE.marks = []
    _STATE.events = []
    return events


def _marks() -> list[str]:
    return getattr(_STATE, "marks", None) or []


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "\x00".join(_text(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value) if isinstance(os.fspath(value), str) else _text(os.fspath(value))
    try:
        return str(value)
    except Exception:
        return ""


def _where() -> dict[str, Any]:
    """The innermost frame of the application (under the root) that led to the event."""
    frame: Any = sys._getframe(2)
    here = os.path.dirname(os.path.abspath(__file__))
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(_ROOT) and not name.startswith(here) and "site-packages" not in name:
            return {"path": os.path.relpath(name, _ROOT), "line": frame.f_lineno}
        frame = frame.f_back
    return {}


def record(sink: str, **values: Any) -> None:
    """Record one sink observation (values are kept as text, capped)."""
    events = getattr(_STATE, "events", None)
    if events is None or len(events) > 50:
        return
    clean: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, bool | int) or v is None:
            clean[k] = v
        elif isinstance(v, list):
            clean[k] = [_text(x)[:_MAX_VALUE] for x in v[:50]]
        else:
            clean[k] = _text(v)[:_MAX_VALUE]
    clean["sink"] = sink
    clean["where"] = _where()
    events.append(clean)


def _carries(text: str) -> bool:
    return any(m in text for m in _marks())


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _marks():
        return
    if event in ("open",) and args:
        path = _text(args[0])
        if _carries(path):
            mode = _text(args[1]) if len(args) > 1 and args[1] is not None else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writing = any(c in mode for c in "wax+") or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            record("open", path=path, mode=mode, cwd=os.getcwd(), write=writing)
            if writing:
                raise Refused(f"mamori proof: refused to write {path}")
        return
    if event in FILE_EVENTS and args:
        path = _text(args[0])
        if _carries(path):
            record(event, path=path, cwd=os.getcwd(), write=event != "os.listdir" and event != "os.scandir")
            if event not in ("os.listdir", "os.scandir"):
                raise Refused(f"mamori proof: refused {event} on {path}")
        return
    if event in SPAWN_EVENTS:
        joined = _text(args)
        if _carries(joined):
            if event == "subprocess.Popen":
                record(
                    event,
                    executable=_text(args[0]),
                    argv=list(map(_text, args[1])) if isinstance(args[1], list | tuple) else [_text(args[1])],
                )
            elif event == "os.system":
                record(event, executable="/bin/sh", argv=["/bin/sh", "-c", _text(args[0])])
            else:
                record(
                    event,
                    executable=_text(args[1] if event == "os.spawn" else args[0]),
                    argv=[_text(a) for a in (args[2] if event == "os.spawn" else args[1])],
                )
            raise Refused("mamori proof: refused to spawn a process carrying the canary")
        return
    if event in NET_EVENTS:
        joined = _text(args)
        if _carries(joined):
            record(event, target=joined.replace("\x00", " "))
            if not (event == "urllib.Request" and joined.startswith("file:")):  # a file is no host
                raise Refused("mamori proof: refused to reach the canary host")
        return
    if event == "pickle.find_class" and len(args) >= 2:
        if _carries(_text(args[0])) or _carries(_text(args[1])):
            record(event, module=_text(args[0]), name=_text(args[1]))
            raise Refused("mamori proof: refused to load the canary class")
        return
    if event == "import" and args:
        if _carries(_text(args[0])):
            record(event, module=_text(args[0]))
            raise ModuleNotFoundError(f"mamori proof: refused to import {_text(args[0])}")
        return
    if event == "compile" and args:
        source = args[0]
        if isinstance(source, str | bytes) and _carries(_text(source)):
            record(event, source=_text(source))
        return
    if event == "mamori.proof":
        record("evaluated", value=_text(args))
        return


# -- wrappers at modelled sinks -------------------------------------------------------------


def _wrap_sqlite() -> None:
    import sqlite3

    class Cursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            if _marks() and _carries(_text(sql)):
                record("sqlite3.execute", sql=sql, parameters=repr(parameters))
            return super().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> Any:
            if _marks() and _carries(_text(sql)):
                record("sqlite3.executemany", sql=sql)
            return super().executemany(sql, seq)

        def executescript(self, script: str, /) -> Any:
            if _marks() and _carries(_text(script)):
                record("sqlite3.executescript", sql=script)
            return super().executescript(script)

    class Connection(sqlite3.Connection):
        def cursor(self, factory: Any = None) -> Any:
            return super().cursor(factory or Cursor)

        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            return self.cursor().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> Any:
            return self.cursor().executemany(sql, seq)

        def executescript(self, script: str, /) -> Any:
            return self.cursor().executescript(script)

    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        if "factory" not in kwargs and len(args) < 6:
            kwargs["factory"] = Connection
        return original(*args, **kwargs)

    sqlite3.connect = connect
    try:
        import sqlite3.dbapi2 as dbapi2

        dbapi2.connect = connect
    except ImportError:
        pass


def _wrap_method(owner: Any, name: str, sink: str, pick: Any) -> None:
    original = getattr(owner, name, None)
    if original is None or getattr(original, "_mamori_pov", False):
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _marks():
            try:
                value = pick(args, kwargs)
            except Exception:
                value = None
            if value is not None and _carries(_text(value)):
                record(sink, query=value)
        return original(*args, **kwargs)

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    wrapper._mamori_pov = True  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def _arg(position: int, keyword: str) -> Any:
    return lambda args, kwargs: kwargs.get(keyword, args[position] if len(args) > position else None)


def _wrap_optional() -> None:
    """Wrappers for sinks of libraries the application may use (each only when importable)."""
    try:
        import ldap3

        _wrap_method(ldap3.Connection, "search", "ldap.search", _arg(2, "search_filter"))
    except Exception:
        pass
    try:
        import ldap.ldapobject

        _wrap_method(ldap.ldapobject.SimpleLDAPObject, "search_ext", "ldap.search", _arg(3, "filterstr"))
    except Exception:
        pass
    try:
        import elementpath

        for name in ("select", "iter_select"):
            _wrap_method(elementpath, name, "xpath.select", _arg(1, "path"))
    except Exception:
        pass
    try:
        import lxml.etree

        def pov(_context: Any, value: Any = "") -> bool:
            record("xpath.evaluated", value=value)
            return False

        lxml.etree.FunctionNamespace(None)["mamori_pov"] = pov
    except Exception:
        pass
    for module, cls in (("pymysql.cursors", "Cursor"), ("MySQLdb.cursors", "BaseCursor")):
        try:
            owner = getattr(__import__(module, fromlist=[cls]), cls)
            _wrap_method(owner, "execute", "dbapi.execute", _arg(1, "query"))
        except Exception:
            pass


_RESOLVERS = {"realpath", "_joinrealpath", "resolve", "samefile", "_realpath"}
"""Callers whose lookups resolve a path in order to check it (a confinement check, not a sink)."""


def _resolving() -> bool:
    """True when the lookup is made by path resolution (``resolve``, ``realpath``) a few calls up."""
    frame: Any = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code.co_name in _RESOLVERS:
            return True
        frame = frame.f_back
    return False


def _wrap_stat() -> None:
    """``os.stat``/``lstat`` raise no audit event; pathlib's ``exists`` and ``os.path`` call them."""
    for name in ("stat", "lstat"):
        original = getattr(os, name)

        def wrapper(
            path: Any, *args: Any, __original: Any = original, __name: str = name, **kwargs: Any
        ) -> Any:
            if _STATE.marks and not isinstance(path, int) and _carries(_text(path)) and not _resolving():
                record(f"os.{__name}", path=_text(path), cwd=os.getcwd(), write=False)
            return __original(path, *args, **kwargs)

        setattr(os, name, wrapper)


def install(root: str) -> None:
    """Install the audit hook and the sink wrappers (before the application is imported)."""
    global _ROOT
    _ROOT = os.path.abspath(root) + os.sep
    _wrap_sqlite()
    _wrap_stat()
    _wrap_optional()
    sys.addaudithook(_audit)


def late_install() -> None:
    """Wrap sinks of libraries the application imported itself (called after it started)."""
    _wrap_optional()
