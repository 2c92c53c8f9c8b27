"""Progress bars for long work, shown on a terminal only (stderr), silent elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class RichProgress:
    """Implements the stages' progress protocol (``start``, ``advance``, ``finish``) with rich."""

    def __init__(self, *, enabled: bool | None = None, bytes_mode: bool = False) -> None:
        console = Console(stderr=True)
        self.enabled = console.is_terminal if enabled is None else enabled
        columns = [TextColumn("{task.description}"), BarColumn()]
        columns.append(DownloadColumn() if bytes_mode else TextColumn("{task.completed}/{task.total}"))
        columns.append(TimeElapsedColumn())
        self._progress = Progress(*columns, console=console, transient=True, disable=not self.enabled)
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def start(self, description: str, total: int | None = None) -> None:
        """Begin a new task (the previous one is finished)."""
        self.finish()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units done."""
        if self._task is not None:
            self._progress.advance(self._task, n)

    def finish(self) -> None:
        """Mark the current task done."""
        if self._task is not None:
            task = self._progress.tasks[-1]
            if task.total is not None:
                self._progress.update(self._task, completed=task.total)
            self._progress.remove_task(self._task)
            self._task = None


def stderr_is_terminal() -> bool:
    """True when progress would be seen by a person."""
    return sys.stderr.isatty()
