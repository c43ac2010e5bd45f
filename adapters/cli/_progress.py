"""Progress reporting of ``copy``: a rich bar on a terminal, or plain lines."""

from __future__ import annotations

import enum
import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ._transfer import CopyStats

__all__ = ["CopyProgress", "ProgressMode"]


class ProgressMode(enum.StrEnum):
    """How ``copy`` shows progress."""

    auto = "auto"
    bar = "bar"
    lines = "lines"
    none = "none"


class CopyProgress:
    """A context manager whose :meth:`update` receives :class:`CopyStats` after each batch.

    ``bar`` draws count, rate and ETA on stderr; ``lines`` prints one line per
    batch (for logs and scripts); ``auto`` is ``bar`` when stderr is a terminal
    and ``none`` otherwise.
    """

    def __init__(self, mode: ProgressMode, label: str) -> None:
        if mode is ProgressMode.auto:
            mode = ProgressMode.bar if sys.stderr.isatty() else ProgressMode.none
        self._mode = mode
        self._label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> CopyProgress:
        if self._mode is ProgressMode.bar:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rec/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=None, rate="-")
        return self

    def update(self, stats: CopyStats) -> None:
        """Show the state after a batch."""
        rate = stats.done / stats.seconds if stats.seconds > 0 else 0.0
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, total=stats.total, completed=stats.done, rate=f"{rate:.0f}"
            )
        elif self._mode is ProgressMode.lines:
            sys.stderr.write(f"progress {stats.done}/{stats.total} {rate:.0f} records/s\n")
            sys.stderr.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
