"""A seam for the crash tests: die by SIGKILL at a named point of the loop.

``MAMORI_WATCH_CRASH_AT=<point>`` makes the service kill itself with ``SIGKILL`` (no cleanup,
no ``finally``, exactly what ``kill -9`` does) when it reaches ``<point>``; the test suite runs
the real ``mamori watch run --once`` as a child process at every point and restarts it, to
prove that no event is lost and no proposal is made twice. Unset, it does nothing.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "osv-imported",
    "osv-queued",
    "kev-imported",
    "fixed",
    "proposal-planned",
    "branch-committed",
    "branch-pushed",
    "request-opened",
    "notified",
)
"""Every point a crash test kills the service at, in the order the loop reaches them."""


def checkpoint(point: str) -> None:
    """Die here (SIGKILL) when ``MAMORI_WATCH_CRASH_AT`` names ``point``."""
    if os.environ.get("MAMORI_WATCH_CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
