"""The service loop: poll the feeds, work the queue, again after ``interval`` seconds.

One cycle: the watched branches first (so a new project is indexed before advisories are
matched against it), the queue drained, then OSV (the ecosystems the index holds), KEV and
EPSS, and the queue drained again. A job that raises is retried with back-off and, after
:data:`mamori.watch.state.MAX_ATTEMPTS`, left failed with its error (``watch status`` shows it);
a feed that cannot be reached is logged and polled again next cycle. Nothing is lost on a kill:
see :mod:`mamori.watch.state` and :mod:`mamori.watch.feeds`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mamori._text import count
from mamori.advisories.store import AdvisoryStore
from mamori.config import advisory_db_path, mamori_home
from mamori.errors import MamoriError
from mamori.watch.context import Context
from mamori.watch.feeds import _http, commits, epss, hub, kev, merges, osv
from mamori.watch.fleet import Fleet
from mamori.watch.reactions import evaluate, fix, index, match, notify, propose
from mamori.watch.state import Job, WatchState

HANDLERS: dict[str, Callable[[Context, Job], None]] = {
    "sync": index.sync,
    "advisory": match.advisory,
    "kev": match.kev,
    "evaluate": evaluate.evaluate,
    "fix": fix.fix,
    "propose": propose.propose,
    "notify": notify.notify,
}


def state_path() -> Path:
    """``MAMORI_HOME/watch.sqlite``."""
    return mamori_home() / "watch.sqlite"


class Watcher:
    """The service for one fleet: :meth:`cycle` once, or :meth:`run` until stopped."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        say: Callable[[str], None] = lambda _m: None,
        state: Path | None = None,
        database: Path | None = None,
    ) -> None:
        self._fleet = fleet
        home = mamori_home() / "watch"
        home.mkdir(parents=True, exist_ok=True)
        self._paths = (state or state_path(), database or advisory_db_path(), home)
        self._say = say
        self.ctx = self._context()
        # what `mamori serve`'s /metrics reads the projects' sectors from
        self.ctx.state.set_cursor("fleet", str(fleet.path))
        self.stop = threading.Event()
        self.workers = 1
        """Jobs worked at once (each in its own thread with its own connections), one per project."""

    def _context(self) -> Context:
        state, database, home = self._paths
        return Context(
            fleet=self._fleet,
            state=WatchState(state),
            store=AdvisoryStore(database),
            http=_http.client(),
            home=home,
            say=self._say,
        )

    def close(self) -> None:
        """Release the HTTP client and the databases."""
        self.ctx.http.close()
        self.ctx.store.close()
        self.ctx.state.close()

    @staticmethod
    def _feed(ctx: Context, name: str, poll: Callable[[], int]) -> None:
        try:
            poll()
        except MamoriError as exc:
            ctx.log(f"{name}: {exc}")
        except Exception as exc:  # a broken feed must not stop the others; it is polled again next cycle
            ctx.log(f"{name}: {type(exc).__name__}: {exc}")

    def poll_branches(self, ctx: Context | None = None) -> None:
        """The watched branches and folders."""
        c = ctx or self.ctx
        self._feed(c, "branches", lambda: commits.poll(c))

    def poll_feeds(self, ctx: Context | None = None) -> None:
        """OSV (for the ecosystems in the index), KEV and EPSS."""
        c = ctx or self.ctx
        feeds = c.fleet.feeds
        ecosystems = c.state.ecosystems()
        if feeds.osv and ecosystems:
            self._feed(c, "osv", lambda: osv.poll(c, ecosystems))
        if feeds.kev:
            self._feed(c, "kev", lambda: kev.poll(c))
        if feeds.epss:
            self._feed(c, "epss", lambda: epss.poll(c))
        if c.fleet.hub.url:
            self._feed(c, "hub", lambda: hub.poll(c))
        if c.state.open_requests():
            self._feed(c, "forge", lambda: merges.poll(c))

    def work(self) -> int:
        """Run jobs until none is runnable now (or :attr:`stop` is set); how many ran.

        With :attr:`workers` above 1, that many threads work the queue, each with its own
        connections; a thread stops when nothing is runnable for it and no other is busy.
        """
        if self.workers <= 1:
            return self._work(self.ctx)
        counts: list[int] = []
        active = [0]
        lock = threading.Lock()

        def loop() -> None:
            ctx = self._context()
            try:
                counts.append(self._work(ctx, active=active, lock=lock))
            finally:
                ctx.http.close()
                ctx.store.close()
                ctx.state.close()

        threads = [threading.Thread(target=loop, name=f"watch-worker-{n}") for n in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts)

    def _work(
        self, ctx: Context, *, active: list[int] | None = None, lock: threading.Lock | None = None
    ) -> int:
        ran = 0
        while not self.stop.is_set():
            job = ctx.state.claim()
            if job is None:
                if active is None or lock is None:
                    return ran
                with lock:
                    idle = active[0] == 0
                if idle:
                    return ran
                time.sleep(0.2)  # another worker may queue follow-up jobs
                continue
            if active is not None and lock is not None:
                with lock:
                    active[0] += 1
            ran += 1
            try:
                self._run_job(ctx, job)
            finally:
                if active is not None and lock is not None:
                    with lock:
                        active[0] -= 1
        return ran

    def _run_job(self, ctx: Context, job: Job) -> None:
        handler = HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise MamoriError(f"unknown job kind {job.kind!r}")
            handler(ctx, job)
        except Exception as exc:  # a failing job must not stop the service; it is retried
            message = str(exc) if isinstance(exc, MamoriError) else f"{type(exc).__name__}: {exc}"
            gave_up = ctx.state.fail(job, message)
            ctx.log(f"job {job.key} failed ({'given up' if gave_up else 'will retry'}): {message}")
        else:
            ctx.state.finish(job)

    def cycle(self) -> dict[str, Any]:
        """One poll of everything and the queue worked until idle."""
        started = time.time()
        self.poll_branches()
        jobs = self.work()
        self.poll_feeds()
        jobs += self.work()
        return {"jobs": jobs, "seconds": time.time() - started, "pending": self.ctx.state.pending()}

    def run(self, *, once: bool = False, interval: float | None = None) -> None:
        """One :meth:`cycle`; then (unless ``once``) serve until :attr:`stop` is set.

        Serving, the feeds are polled every ``interval`` seconds in a thread of their own, so a
        new advisory or KEV addition is seen while fixes run (they take minutes on a large
        project); fix jobs are worked by :attr:`workers` threads and every other job (matching,
        re-prioritising, proposing, notifying) also by a quick lane of its own, so an escalation
        or a verified fix's proposal never waits behind another project's sandboxed tests.
        Retried jobs run when their back-off ends.
        """
        every = interval if interval is not None else self.ctx.fleet.feeds.interval
        summary = self.cycle()
        self.ctx.log(
            f"cycle: {count(summary['jobs'], 'job')} in {summary['seconds']:.1f}s; {summary['pending']} waiting"
        )
        if once or self.stop.is_set():
            return
        threads = [
            threading.Thread(target=self._poller, args=(every,), name="watch-poller"),
            threading.Thread(target=self._lane, args=(("fix",),), name="watch-quick"),
            *(
                threading.Thread(target=self._lane, args=((),), name=f"watch-worker-{n}")
                for n in range(max(1, self.workers))
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _with_context(self, body: Callable[[Context], None]) -> None:
        ctx = self._context()  # SQLite connections belong to the thread that made them
        try:
            body(ctx)
        finally:
            ctx.http.close()
            ctx.store.close()
            ctx.state.close()

    def _poller(self, every: float) -> None:
        """Poll the branches and the feeds every ``every`` seconds until :attr:`stop`."""

        def loop(ctx: Context) -> None:
            while not self.stop.wait(every):
                self.poll_branches(ctx)
                self.poll_feeds(ctx)

        self._with_context(loop)

    def _lane(self, skip: tuple[str, ...]) -> None:
        """Work the queue (jobs of the kinds in ``skip`` left to others) until :attr:`stop`."""

        def loop(ctx: Context) -> None:
            while not self.stop.is_set():
                job = ctx.state.claim(skip=skip)
                if job is None:
                    self.stop.wait(0.2)
                    continue
                self._run_job(ctx, job)

        self._with_context(loop)
