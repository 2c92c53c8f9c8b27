"""The app's own server calls, held while the harness imports the app.

A script-style app starts its server at import (``app.run(debug=True)`` at the end of
``vulpy.py``, ``web.run_app(app)``, ``HTTPServer(...).serve_forever()``): run under the
harness, that call blocks forever, or re-executes the harness (Werkzeug's reloader), and the app
never gets a request. ``flask run`` does the same: a call to ``app.run()`` made while the CLI
loads the app is ignored. While :func:`held` is active, such a call made from the main thread
returns at once (and says so on stderr); the harness's own servers run in threads, unaffected.
Standard library only (runs under the application's interpreter).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from typing import Any

_CALLS = {
    "flask": (("flask", "Flask", "run"), ("werkzeug.serving", "", "run_simple")),
    "aiohttp": (("aiohttp.web", "", "run_app"),),
    "asgi": (("uvicorn", "", "run"),),
    "wsgi": (("werkzeug.serving", "", "run_simple"),),
}
"""Per framework driver: (module, class or '', function) of the calls that start a server."""
_ALWAYS = (("socketserver", "BaseServer", "serve_forever"),)


def _owner(module: str, cls: str) -> Any:
    top = module.split(".")[0]
    try:
        if top not in sys.modules and importlib.util.find_spec(top) is None:
            return None
        found: Any = importlib.import_module(module)
    except Exception:  # a framework the app's environment lacks or cannot import
        return None
    return getattr(found, cls, None) if cls else found


def _hold(name: str, original: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return original(*args, **kwargs)
        print(f"mamori: ignored the app's call to {name}() while loading it", file=sys.stderr)
        return None

    call.__wrapped__ = original  # type: ignore[attr-defined]
    return call


@contextlib.contextmanager
def held(framework: str) -> Iterator[list[str]]:
    """Blocking server starts made from the main thread return at once while active."""
    undo: list[tuple[Any, str, Any]] = []
    names: list[str] = []
    for module, cls, fn in (*_CALLS.get(framework, ()), *_ALWAYS):
        owner = _owner(module, cls)
        original = getattr(owner, fn, None) if owner is not None else None
        if original is None:
            continue
        name = f"{cls or module}.{fn}"
        setattr(owner, fn, _hold(name, original))
        undo.append((owner, fn, original))
        names.append(name)
    try:
        yield names
    finally:
        for owner, fn, original in reversed(undo):
            setattr(owner, fn, original)
