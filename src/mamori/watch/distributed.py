"""Fix jobs on Celery workers with a Redis broker: the fleet's fix stage on several machines.

Why Celery with Redis: the fix stage is the one expensive step of the loop (a project's tests in
the sandbox, a scratch virtualenv or ``node_modules``, a re-scan), and it parallelises by
project. Celery is Python's established task queue — acknowledgement after the task
(``acks_late``), redelivery when a worker dies, one task at a time per worker process
(``prefetch_multiplier = 1``) — and Redis, packaged by Debian (``redis-server``), is its
simplest broker and result store. Ray would schedule Python functions across machines too, but
brings a cluster runtime the fix stage does not need.

What moves and what stays: the service keeps its SQLite queue, cursors, proposals and the
timeline, so crash safety and "never proposed twice" stay the embedded queue's (a fix job is
claimed, its task sent, its result awaited; a service killed meanwhile claims it again and sends
it again, and the proposal's identity decides). With ``[fix] broker`` in the fleet file, a fix
job of a project with a git remote is sent as task :data:`TASK`; a worker
(``mamori watch worker --broker URL``) clones that remote at the job's commit, adds the
advisories the task carries to its own database (``MAMORI_HOME/watch-worker``), runs
:func:`mamori.watch.reactions.fix.fix_stage` — exactly the stage the service runs (sandboxed,
verified, nothing applied) — and returns the results as JSON. Messages are JSON only (a broker
message is data: pickle is never accepted) and are checked field by field before use. The
broker is trusted infrastructure: put it on loopback or behind TLS and a password
(``rediss://:PASSWORD@host``).
"""

from __future__ import annotations

import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.errors import InputError, MamoriError

if TYPE_CHECKING:
    from celery import Celery

    from mamori.watch.context import Context
    from mamori.watch.fleet import FixSettings

TASK = "mamori.watch.fix"
"""The Celery task name of a remote fix stage."""
RESULT_TIMEOUT = 3600.0
"""Seconds the service waits for a worker's result before the job is retried."""
_MAX_RECORDS = 5_000


def make_app(broker: str) -> Celery:
    """The Celery application on ``broker`` (also its result store), JSON messages only."""
    from celery import Celery

    app = Celery("mamori", broker=broker, backend=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=24 * 3600,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        task_track_started=True,
    )

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator,unused-ignore]
    def fix_task(self: Any, request: dict[str, Any]) -> dict[str, Any]:
        return run_request(request, worker=str(self.request.hostname or socket.gethostname()))

    return app


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """One finding's outcome as a worker reported it (what the fix reaction reads of a result)."""

    finding_id: str
    status: str
    summary: str
    diff: str
    why: str
    notes: tuple[str, ...]
    seconds_to_verified: float | None


@dataclass(frozen=True, slots=True)
class RemoteVerification:
    """How a worker verified (the fields the merge request's body shows)."""

    method: str
    tests: str
    baseline_passed: bool | None
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoteReport:
    """A worker's fix report: the shape :func:`mamori.watch.reactions.fix.fix` reads."""

    results: tuple[RemoteResult, ...]
    verification: RemoteVerification
    worker: str


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"remote fix: {what} must be text")
    return value


def run_request(request: Any, *, worker: str) -> dict[str, Any]:
    """Run one task on this worker: the request checked, the project cloned at its commit, the
    advisories added to the worker's database, the fix stage run; the result as JSON data."""
    from mamori.advisories.store import AdvisoryStore
    from mamori.config import mamori_home
    from mamori.watch import _git
    from mamori.watch.fleet import FixSettings
    from mamori.watch.reactions.fix import fix_stage

    if not isinstance(request, dict):
        raise InputError("remote fix: the request must be an object")
    repo = _text(request.get("repo"), "repo")
    branch = _text(request.get("branch"), "branch")
    commit = _text(request.get("commit", ""), "commit")
    records = request.get("advisories", [])
    settings = request.get("settings", {})
    if not isinstance(records, list) or len(records) > _MAX_RECORDS:
        raise InputError("remote fix: advisories must be a list of OSV records")
    if not isinstance(settings, dict):
        raise InputError("remote fix: settings must be an object")
    home = mamori_home() / "watch-worker"
    home.mkdir(parents=True, exist_ok=True)
    database = home / "advisories.sqlite"
    with tempfile.TemporaryDirectory(prefix="mamori-remote-fix-", dir=home) as tmp:
        folder = Path(tmp) / "osv"
        folder.mkdir()
        for n, record in enumerate(records):
            (folder / f"{n:05d}.json").write_text(_text(record, "an advisory record"), encoding="utf-8")
        store = AdvisoryStore(database)
        try:
            if records:
                summary = store.import_paths([folder])
                if summary.errors:
                    raise InputError(f"remote fix: {summary.errors[0]}")
        finally:
            store.close()
        checkout = Path(tmp) / "checkout"
        _git.sync_checkout(repo, branch, checkout, commit)
        fix = FixSettings(
            python=_text(settings.get("python", ""), "settings.python"),
            test_command=_text(settings.get("test_command", ""), "settings.test_command"),
            strategy=_text(settings.get("strategy", "in-place"), "settings.strategy"),
        )
        report = fix_stage(checkout, fix, database, warn=lambda _m: None)
    return {
        "worker": worker,
        "results": [
            {
                "finding_id": r.finding_id,
                "status": r.status,
                "summary": r.summary,
                "diff": r.diff,
                "why": r.why,
                "notes": list(r.notes),
                "seconds_to_verified": r.seconds_to_verified,
            }
            for r in report.results
        ],
        "verification": {
            "method": report.verification.method,
            "tests": report.verification.tests,
            "baseline_passed": report.verification.baseline_passed,
            "warnings": list(report.verification.warnings),
        },
    }


def parse_result(data: Any) -> RemoteReport:
    """A worker's JSON result as a :class:`RemoteReport` (checked field by field)."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise MamoriError("a remote fix worker answered something that is not a fix result")
    results = []
    for r in data["results"]:
        if not isinstance(r, dict):
            raise MamoriError("a remote fix result is not an object")
        seconds = r.get("seconds_to_verified")
        results.append(
            RemoteResult(
                finding_id=str(r.get("finding_id", "")),
                status=str(r.get("status", "")),
                summary=str(r.get("summary", "")),
                diff=str(r.get("diff", "")),
                why=str(r.get("why", "")),
                notes=tuple(str(n) for n in r.get("notes", []) if isinstance(n, str)),
                seconds_to_verified=float(seconds) if isinstance(seconds, int | float) else None,
            )
        )
    raw = data.get("verification")
    v: dict[str, Any] = raw if isinstance(raw, dict) else {}
    baseline = v.get("baseline_passed")
    return RemoteReport(
        tuple(results),
        RemoteVerification(
            method=str(v.get("method", "")),
            tests=str(v.get("tests", "")),
            baseline_passed=baseline if isinstance(baseline, bool) else None,
            warnings=tuple(str(w) for w in v.get("warnings", []) if isinstance(w, str)),
        ),
        str(data.get("worker", "")),
    )


def _package_of(component: str) -> tuple[str, str] | None:
    """(ecosystem, name) of a fix identity's component, ``ecosystem/name@version (path)``."""
    head = component.split(" (", 1)[0]
    ecosystem, sep, rest = head.partition("/")
    name = rest.rpartition("@")[0]
    return (ecosystem, name) if sep and name else None


def remote_fix(
    ctx: Context, settings: FixSettings, repo: str, branch: str, commit: str, todo: list[dict[str, Any]]
) -> RemoteReport:
    """Send the fix stage of ``repo`` at ``commit`` to a worker and wait for its result."""
    packages = {p for w in todo if (p := _package_of(str(w.get("component", "")))) is not None}
    request = {
        "repo": repo,
        "branch": branch,
        "commit": commit,
        "advisories": ctx.store.records_for(sorted(packages)),
        "settings": {
            "python": settings.python,
            "test_command": settings.test_command,
            "strategy": settings.strategy,
        },
    }
    app = make_app(settings.broker)
    try:
        pending = app.send_task(TASK, args=[request])
        try:
            data = pending.get(timeout=settings.broker_timeout or RESULT_TIMEOUT, propagate=True)
        except Exception as exc:  # the worker's error, a timeout or the broker gone: the job retries
            raise MamoriError(f"remote fix on {repo} did not complete: {type(exc).__name__}: {exc}") from exc
        finally:
            pending.forget()
    finally:
        app.close()
    return parse_result(data)
