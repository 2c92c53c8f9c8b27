"""The PoV harness: start an application the way its users do and replay proof requests.

Run with the application's interpreter inside the sandbox, never in mamori's process::

    python pov_main.py < job.json

The job (JSON on stdin) names the scratch copy (``root``), the framework driver and how to
find the app, and the requests to send. Each request is sent through the framework's own test
client; the sink observations (see ``pov_hooks``) and the response are written as one JSON
line per request to the standard output this process started with (the application's own
prints go to stderr). Standard library only; never imports mamori.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVERS = {
    "flask": "pov_flask",
    "django": "pov_django",
    "asgi": "pov_asgi",
    "aiohttp": "pov_aiohttp",
    "tornado": "pov_tornado",
    "wsgi": "pov_wsgi",
    "httpserver": "pov_wsgi",
}


class Timeout(Exception):
    """A request ran longer than the job allows."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Timeout()


def _excerpts(text: str, marks: list[str], width: int = 300) -> list[str]:
    out: list[str] = []
    for mark in marks:
        start = 0
        for _ in range(3):
            i = text.find(mark, start)
            if i < 0:
                break
            out.append(text[max(0, i - width) : i + len(mark) + width])
            start = i + len(mark)
    return out


def _response(status: int, headers: list[tuple[str, str]], body: bytes, marks: list[str]) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    return {
        "status": status,
        "headers": [[k, v] for k, v in headers][:60],
        "content_type": ctype,
        "length": len(body),
        "excerpts": _excerpts(text, marks),
    }


def _load_shadowed(job: dict[str, Any], here: str, root: str) -> None:
    """Load by its file an app module named like one the interpreter has already (``site.py``).

    ``python site.py`` from the app's folder runs the app's own file; an import by name would
    get the frozen standard-library module instead.
    """
    import importlib.util

    for spec in job.get("apps") or []:
        top = str(spec.get("module", "")).split(".")[0]
        loaded = sys.modules.get(top)
        if loaded is None or str(getattr(loaded, "__file__", "") or "").startswith(root):
            continue
        ours = (os.path.join(here, top + ".py"), os.path.join(here, top, "__init__.py"))
        mine = next((p for p in ours if os.path.isfile(p)), None)
        found = importlib.util.spec_from_file_location(top, mine) if mine else None
        if found is None or found.loader is None:
            continue
        module = importlib.util.module_from_spec(found)
        sys.modules[top] = module
        found.loader.exec_module(module)


def _run_setup(job: dict[str, Any]) -> list[str]:
    """Call the functions the loaded app module's main block calls bare before it serves."""
    for spec in job.get("apps") or []:
        module = sys.modules.get(str(spec.get("module", "")))
        if module is None:
            continue
        done: list[str] = []
        for name in spec.get("setup") or []:
            fn = getattr(module, name, None)
            if callable(fn):
                fn()
                done.append(f"ran {name}()")
        return done
    return []


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # the application's prints go to stderr
    sys.stdout = sys.stderr
    job = json.loads(sys.stdin.read())
    root = os.path.abspath(job["root"])
    for path, content in (job.get("files") or {}).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(content)
    sys.path.insert(0, HERE)
    import pov_hooks

    os.chdir(job.get("cwd") or root)
    sys.path.insert(0, job.get("cwd") or root)
    if job.get("cwd") and root not in sys.path:
        sys.path.insert(1, root)
    import pov_prepare
    import pov_servers

    started = time.perf_counter()
    prepared = pov_prepare.run_scripts(os.getcwd())  # python db_init.py, before the app's import
    pov_hooks.install(root)
    try:
        driver = importlib.import_module(DRIVERS[job["framework"]])
        with pov_servers.held(job["framework"]):  # app.run() at import: ignored, as `flask run` does
            _load_shadowed(job, job.get("cwd") or root, root)
            app = driver.load(job, root)
            prepared += _run_setup(job)  # init(), as `python app.py` runs it before serving
        if job["framework"] == "flask":
            prepared += pov_prepare.run_flask_commands(app.app)  # flask init-db
        pov_hooks.late_install()
    except BaseException as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if prepared:
            detail += f" (after: {'; '.join(prepared)})"
        out.write(json.dumps({"type": "error", "error": f"app would not start: {detail}"[:2000]}) + "\n")
        return 0
    ready = {"type": "ready", "seconds": round(time.perf_counter() - started, 3), "prepared": prepared}
    out.write(json.dumps(ready) + "\n")
    signal.signal(signal.SIGALRM, _alarm)
    limit = float(job.get("timeout", 10))
    for req in job["requests"]:
        result: dict[str, Any] = {"type": "result", "id": req["id"], "attempt": req.get("attempt", 0)}
        route = None
        try:
            route = app.route_for(req["steps"], req.get("method"))
        except Exception as exc:
            result["error"] = f"route lookup failed: {type(exc).__name__}: {exc}"[:500]
        if route is None:
            result.setdefault("error", "no route of the app runs the code of this finding")
            out.write(json.dumps(result) + "\n")
            continue
        marks = list(req.get("marks") or [])
        pov_hooks.begin(marks)
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            sent, (status, headers, body) = app.send(route, req)
            result["request"] = sent
            result["response"] = _response(status, headers, body, marks)
        except Timeout:
            result["error"] = f"the request did not finish within {limit:g} s"
        except BaseException as exc:
            result["exception"] = f"{type(exc).__name__}: {exc}"[:1000]
            result.setdefault("request", getattr(exc, "mamori_request", None))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            result["events"] = pov_hooks.end()
        result["seconds"] = round(time.perf_counter() - t0, 4)
        result["route"] = route.describe()
        out.write(json.dumps(result, default=str) + "\n")
    out.write(json.dumps({"type": "done"}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # never run the application's atexit handlers or non-daemon threads' joins
