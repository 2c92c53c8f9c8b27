"""Progress bars for long work, shown on a terminal only (stderr), silent elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class _AmountColumn(ProgressColumn):
    """Bytes for downloads and imports, ``done/total unit`` for counted work (files, fixes)."""

    def __init__(self, bytes_mode: bool) -> None:
        super().__init__()
        self._download = DownloadColumn() if bytes_mode else None

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit")
        if self._download is not None and not unit:
            return self._download.render(task)
        total = "?" if task.total is None else str(int(task.total))
        return Text(f"{int(task.completed)}/{total}" + (f" {unit}" if unit else ""))


class RichProgress:
    """Implements the stages' progress protocol (``start``, ``advance``, ``finish``) with rich."""

    def __init__(self, *, enabled: bool | None = None, bytes_mode: bool = False) -> None:
        console = Console(stderr=True)
        self.enabled = console.is_terminal if enabled is None else enabled
        columns: list[ProgressColumn] = [TextColumn("{task.description}"), BarColumn()]
        columns.append(_AmountColumn(bytes_mode))
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

    def start(self, description: str, total: int | None = None, unit: str = "") -> None:
        """Begin a new task (the previous one is finished); ``unit`` names what is counted."""
        self.finish()
        self._task = self._progress.add_task(description, total=total, unit=unit)

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
