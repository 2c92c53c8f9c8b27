"""Preparing the app's database in the scratch copy, the way its README tells users to.

Runs in the harness (the application's interpreter, inside the sandbox), before requests are
sent; standard library only. Two declared forms are run, each under a time limit, and every
one that ran (or failed) is reported:

- a database-initialisation script beside the app (``db_init.py``, ``init_db.py``,
  ``create_db.py``...), run as ``python db_init.py`` from the app's folder, before the app is
  imported (the app may read its tables at import);
- a Flask CLI command the app registers (``flask init-db``, ``initdb``, ``create-db``...),
  invoked through Flask's CLI runner once the app is loaded.

Nothing here reaches outside the scratch copy: the sandbox around the process confines it.
"""

from __future__ import annotations

import os
import re
import runpy
import signal
import sys
from typing import Any

SCRIPTS = (
    "db_init.py",
    "init_db.py",
    "initdb.py",
    "create_db.py",
    "createdb.py",
    "db_create.py",
    "setup_db.py",
    "init_database.py",
    "create_database.py",
)
COMMAND = re.compile(r"^(init|create|setup|reset)[-_]?(db|database)$|^(db|database)[-_]?(init|create)$")
LIMIT = 30.0


class _Late(Exception):
    """The preparation step ran longer than allowed."""


def _limited(fn: Any) -> str:
    """Run ``fn`` under the time limit; "" when it succeeded, else what went wrong."""

    def alarm(_signum: int, _frame: Any) -> None:
        raise _Late()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        fn()
        return ""
    except _Late:
        return f"did not finish within {LIMIT:g} s"
    except SystemExit as exc:
        return "" if exc.code in (None, 0) else f"exited with {exc.code}"
    except BaseException as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_scripts(folder: str) -> list[str]:
    """Run the database-initialisation scripts found in ``folder`` (the app's working folder)."""
    notes: list[str] = []
    for name in SCRIPTS:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        argv = sys.argv
        sys.argv = [path]
        try:
            problem = _limited(lambda path=path: runpy.run_path(path, run_name="__main__"))
        finally:
            sys.argv = argv
        notes.append(f"ran {name}" + (f" (it failed: {problem})" if problem else ""))
    return notes


def run_flask_commands(app: Any) -> list[str]:
    """Invoke the database commands a Flask app registers (``flask init-db``)."""
    commands = getattr(getattr(app, "cli", None), "commands", None) or {}
    notes: list[str] = []
    for name in sorted(commands):
        if not COMMAND.match(name):
            continue
        runner = app.test_cli_runner()

        def invoke(name: str = name, runner: Any = runner) -> None:
            with app.app_context():  # as `flask init-db` runs it (a plain click command needs one)
                result = runner.invoke(args=[name])
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise result.exception
            if result.exit_code:
                raise SystemExit(result.exit_code)

        problem = _limited(invoke)
        notes.append(f"ran flask {name}" + (f" (it failed: {problem})" if problem else ""))
    return notes
