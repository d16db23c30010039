"""Progress bars with an ETA on stderr for the ``nengli`` commands that take a while.

Library code reports stages through :class:`competency_model.progress.ProgressReporter`; this
module draws them with rich (which Typer already brings). Bars go to stderr only, so a
command's stdout (JSON, tables) stays the same with or without them, and they are drawn only
when someone watches: stderr is a terminal, and neither ``--quiet`` nor ``--json`` was given.
``NENGLI_PROGRESS=1`` forces them on (tests, ``script`` logs), ``NENGLI_PROGRESS=0`` off.
rich is imported only when a bar is drawn, so ``nengli --help`` does not pay for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from competency_model.progress import NO_PROGRESS, ProgressReporter

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["ENV_VAR", "QuietOption", "cli_progress", "progress_wanted"]

#: Environment variable that forces the bars on (1) or off (0) whatever stderr is.
ENV_VAR = "NENGLI_PROGRESS"

#: ``--quiet`` of every long command: no progress bars (stdout is unchanged either way).
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="不显示进度 / no progress bars on stderr."),
]

_ON = {"1", "true", "yes", "on", "always"}
_OFF = {"0", "false", "no", "off", "never"}


def _forced() -> bool | None:
    value = os.environ.get(ENV_VAR, "").strip().lower()
    return True if value in _ON else False if value in _OFF else None


def progress_wanted(quiet: bool = False) -> bool:
    """Whether to draw bars: not ``quiet``, then ``NENGLI_PROGRESS``, else stderr is a TTY."""
    if quiet:
        return False
    forced = _forced()
    if forced is not None:
        return forced
    return sys.stderr.isatty()


class _RichReporter:
    """One rich task per stage; a finished stage stays on screen with its elapsed time."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._task: TaskID | None = None

    def _finish(self) -> None:
        if self._task is None:
            return
        task = next(t for t in self._bar.tasks if t.id == self._task)
        # a stage without a known size ends as a full bar; the count column shows what it counted
        total = task.total if task.total is not None else max(task.completed, 1)
        self._bar.update(self._task, total=total, completed=total)
        self._bar.stop_task(self._task)

    def stage(self, name: str, total: int | None = None) -> None:
        """Close the running stage and open ``name`` (``total`` units when known)."""
        self._finish()
        self._task = self._bar.add_task(name, total=total, sized=total is not None, counted=0)

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` units of the running stage."""
        if self._task is not None:
            task = next(t for t in self._bar.tasks if t.id == self._task)
            self._bar.update(
                self._task, advance=amount, counted=int(task.fields.get("counted", 0)) + amount
            )

    def close(self) -> None:
        """Mark the last stage done."""
        self._finish()
        self._task = None


def _columns() -> tuple[Any, ...]:
    from rich.progress import (
        BarColumn,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class CountColumn(ProgressColumn):
        """``done/total`` for a sized stage, the units counted (if any) for an unsized one."""

        def render(self, task: Task) -> Text:
            counted = int(task.fields.get("counted", 0))
            if task.fields.get("sized"):
                return Text(f"{counted}/{int(task.total or 0)}")
            return Text(str(counted) if counted else "")

    return (
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )


@contextmanager
def cli_progress(quiet: bool = False) -> Iterator[ProgressReporter]:
    """A reporter drawing bars on stderr, or one that does nothing (see the module docstring).

    Example
    -------
    >>> with cli_progress(quiet=True) as progress:
    ...     progress.stage("读取 reading", total=3)
    """
    if not progress_wanted(quiet):
        yield NO_PROGRESS
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, force_terminal=True if _forced() else None)
    # stdout is not redirected through the bar: a command's output stays on stdout
    progress = Progress(
        *_columns(),
        console=console,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with progress as bar:
        reporter = _RichReporter(bar)
        try:
            yield reporter
        finally:
            reporter.close()
