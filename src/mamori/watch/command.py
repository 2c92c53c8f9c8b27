"""``mamori watch add|run|status|worker``: the command-line face of the watch service.

Plain functions with typer annotations; :mod:`mamori.cli` registers them under ``watch``.
"""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mamori._text import count
from mamori.errors import InputError

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="The fleet file (default: watch.toml under MAMORI_HOME)."),
]


class Policy(StrEnum):
    """What mamori may do for a project."""

    propose = "propose"
    notify_only = "notify-only"


class StatusFormat(StrEnum):
    """Output formats of ``watch status``."""

    text = "text"
    json = "json"


def watch_add_command(
    source: Annotated[str, typer.Argument(help="A project folder, or a git URL to clone and watch.")],
    branch: Annotated[
        str, typer.Option("--branch", help="The branch to watch (default: the remote's default).")
    ] = "",
    name: Annotated[
        str, typer.Option("--name", help="The project's name in the fleet (default: from SOURCE).")
    ] = "",
    github: Annotated[
        str,
        typer.Option(
            "--github", help="owner/repo on the forge for merge requests (default: from a github.com URL)."
        ),
    ] = "",
    policy: Annotated[
        Policy,
        typer.Option(
            "--policy", help="propose: branch + merge request (never the default branch); notify-only."
        ),
    ] = Policy.propose,
    auto_fix: Annotated[
        str, typer.Option("--auto-fix", help="SSVC decisions that get a fix proposal, comma-separated.")
    ] = "act,attend",
    sector: Annotated[
        str, typer.Option("--sector", help="The asset's sector (the contract's sector names).")
    ] = "",
    criticality: Annotated[str, typer.Option("--criticality", help="low, medium or high.")] = "",
    exposure: Annotated[str, typer.Option("--exposure", help="internet, internal or isolated.")] = "",
    config: ConfigOption = None,
) -> None:
    """Add a project to the fleet file (watch.toml), keeping its comments.

    SOURCE is a local folder or a git URL. The project gets its asset context (sector,
    criticality, exposure: how its findings are prioritised) and its policy: propose (the
    default: a verified fix is pushed to a mamori/... branch and a merge request is opened;
    mamori never pushes to the watched or default branch) or notify-only. --auto-fix names the
    SSVC decisions that get a fix proposal (default act,attend).
    """
    from mamori.watch.fleet import add_project, default_fleet_path

    decisions = tuple(d.strip() for d in auto_fix.split(",") if d.strip())
    project = add_project(
        source,
        fleet_path=config,
        name=name,
        branch=branch,
        github=github,
        policy=policy.value,
        auto_fix=decisions,
        sector=sector,
        criticality=criticality or None,
        exposure=exposure,
    )
    where = config or default_fleet_path()
    typer.echo(
        f"added {project.name} ({project.source}) to {where}: policy={project.policy}, auto_fix={','.join(project.auto_fix) or '-'}"
    )


def _say(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    sys.stderr.write(f"{stamp} {message}\n")
    sys.stderr.flush()


def watch_run_command(
    once: Annotated[
        bool, typer.Option("--once", help="Run one poll cycle, work the queue until idle, and exit.")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option("--interval", help="Seconds between poll cycles (default: [feeds] interval, 300)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Jobs worked at once, 1 to 16 (threads; never two of one project).",
        ),
    ] = 1,
    config: ConfigOption = None,
) -> None:
    """Run the watch service in the foreground: the loop without anyone typing a command.

    Each cycle reads each project's watched branch (new commits re-index only the dependency
    files they touched), polls OSV incrementally (modified_id.csv: only changed records are
    fetched), CISA KEV (additions escalate the projects they hit) and FIRST EPSS (re-rank),
    matches changes against the component index, re-prioritises affected projects with their
    asset context, and, where policy allows, runs `mamori fix` (verified in the sandbox,
    nothing applied), pushes a mamori/... branch and opens a merge request with the evidence;
    webhooks get a JSON POST. Jobs live in a SQLite queue under MAMORI_HOME: a kill loses no
    event and never opens a second branch or request for the same fix. Progress lines go to
    stderr. Stop with Ctrl-C or SIGTERM.
    """
    from mamori.watch.fleet import load_fleet
    from mamori.watch.service import Watcher

    fleet = load_fleet(config)
    if not fleet.projects:
        raise InputError(
            "the fleet is empty: add a project with `mamori watch add PATH|GIT-URL`", path=str(fleet.path)
        )
    if interval is not None and interval <= 0:
        raise InputError("--interval must be above 0")
    if not 1 <= workers <= 16:
        raise InputError("--workers must be between 1 and 16")
    watcher = Watcher(fleet, say=_say)
    watcher.workers = workers

    def _stop(_signum: int, _frame: object) -> None:
        _say("stopping after the current job")
        watcher.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    _say(
        f"watching {count(len(fleet.projects), 'project')} from {fleet.path}"
        + (" (one cycle)" if once else "")
    )
    try:
        watcher.run(once=once, interval=interval)
    finally:
        watcher.close()


def watch_worker_command(
    broker: Annotated[
        str,
        typer.Option(
            "--broker",
            help="The Celery broker the service sends fix jobs to ([fix] broker), e.g. redis://127.0.0.1:6379/0.",
        ),
    ],
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Fix jobs this worker runs at once, 1 to 16 (processes).")
    ] = 1,
    name: Annotated[
        str, typer.Option("--name", help="This worker's name in results and logs (default: host name).")
    ] = "",
) -> None:
    """Run fix jobs sent by `mamori watch run` (a fleet file with [fix] broker) on this machine.

    Each job names a project's git remote and commit and carries the advisories it needs: the
    worker clones that commit, adds the advisories to its own database (watch-worker under
    MAMORI_HOME), runs the same fix stage as the service (the project's tests in the sandbox,
    verified, nothing applied) and returns the results; the service proposes. Messages are
    JSON only. Needs Celery with Redis (pip install 'mamori[distributed]'; Debian's redis-server).
    Stop with Ctrl-C or SIGTERM (the job in hand is finished, or handed back to the broker).
    """
    import socket

    if not broker.startswith(("redis://", "rediss://")):
        raise InputError("--broker must be a redis:// or rediss:// URL")
    if not 1 <= concurrency <= 16:
        raise InputError("--concurrency must be between 1 and 16")
    try:
        from mamori.watch.distributed import make_app
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(f"Celery is not installed ({exc}): pip install 'mamori[distributed]'") from exc
    app = make_app(broker)
    node = f"{name or 'mamori'}@{socket.gethostname()}"
    _say(f"worker {node} on {broker.split('@')[-1]}, {count(concurrency, 'process', 'processes')}")
    app.worker_main(
        [
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            f"--hostname={node}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def watch_status_command(
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = StatusFormat.text,
    config: ConfigOption = None,
) -> None:
    """Show the fleet, the feeds' last polls, the queue, proposals and their latencies.

    Latency is measured from the advisory's publication (the OSV record's published time) to
    the verified fix's merge request.
    """
    from mamori.watch.fleet import load_fleet
    from mamori.watch.service import state_path
    from mamori.watch.state import WatchState
    from mamori.watch.status import collect_status, render_status

    fleet = load_fleet(config)
    state = WatchState(state_path())
    try:
        data = collect_status(fleet, state)
    finally:
        state.close()
    typer.echo(
        json.dumps(data, indent=2, sort_keys=True) if fmt is StatusFormat.json else render_status(data)
    )
