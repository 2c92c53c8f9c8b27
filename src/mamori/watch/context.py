"""What every feed and reaction is handed: the fleet, the state, the advisory store, HTTP, a log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mamori.advisories.store import AdvisoryStore
from mamori.watch import _git
from mamori.watch.fleet import Fleet, Project
from mamori.watch.state import WatchState


@dataclass
class Context:
    """The service's working parts (one per process)."""

    fleet: Fleet
    state: WatchState
    store: AdvisoryStore
    http: httpx.Client
    home: Path
    """``MAMORI_HOME/watch``: checkouts and scratch files."""
    say: Callable[[str], None]
    """Writes one progress line (the service's log)."""

    def log(self, message: str) -> None:
        """A line for the user and for ``watch status``."""
        self.state.log(message)
        self.say(message)

    def checkout(self, project: Project) -> Path:
        """Where the project's files are read: the service's own clone of its git remote (a
        local folder that is a git repository is cloned too: the user's work tree is never
        checked out, cleaned or changed), else the plain folder itself (read only)."""
        folder = self.fleet.folder_of(project)
        if folder is not None and not project.git and not _git.is_repository(folder):
            return folder
        return self.home / "checkouts" / project.name

    def extra(self) -> dict[str, Any]:
        """Room for reactions to share per-process caches."""
        return {}
