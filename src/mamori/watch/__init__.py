"""``mamori watch``: the loop runs by itself, and people keep the decisions that matter.

A long-running service over a fleet of projects (:mod:`.fleet`, ``watch.toml``). It polls the
feeds (:mod:`.feeds`: OSV incrementally, CISA KEV, FIRST EPSS, each project's watched branch),
keeps a component index of every project and a durable job queue (:mod:`.state`, SQLite), and
reacts (:mod:`.reactions`): re-prioritise affected projects, run the fix stage where policy
allows, push a ``mamori/…`` branch, open a merge request with the evidence, notify by webhook.
It does no more than the stages would by hand: fixes are verified by :func:`mamori.fix.fix_project`
in the sandbox and only proposed; nothing is merged or pushed to a watched branch.

Public interface: :func:`load_fleet`, :func:`add_project`, :class:`Watcher`, :func:`collect_status`.
"""

from __future__ import annotations

from mamori.watch.fleet import Fleet, Project, add_project, load_fleet
from mamori.watch.service import Watcher
from mamori.watch.status import collect_status

__all__ = ["Fleet", "Project", "Watcher", "add_project", "collect_status", "load_fleet"]
