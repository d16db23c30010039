"""What a long computation tells the person waiting for it: stages and counts, no drawing.

Library code (training, the simulator, imports, evaluations, batch runs) reports through a
:class:`ProgressReporter` it is handed, so it never imports a terminal library and a caller that
wants silence passes nothing. The CLI turns the calls into progress bars with an ETA on stderr
(``service/cli/progress.py``); tests can pass a recorder.

Example
-------
>>> def fit(rows: list[int], progress: ProgressReporter = NO_PROGRESS) -> int:
...     progress.stage("counting rows", total=len(rows))
...     for _ in rows:
...         progress.advance()
...     return len(rows)
>>> fit([1, 2, 3])
3
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NO_PROGRESS", "NoProgress", "ProgressReporter"]


class ProgressReporter(Protocol):
    """Receives a computation's stages in order and the work done within the current one."""

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins (the previous one is over); ``total`` units if known."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""


class NoProgress:
    """The reporter used when nobody is watching: every call does nothing."""

    def stage(self, name: str, total: int | None = None) -> None:
        """Ignore the stage."""

    def advance(self, amount: int = 1) -> None:
        """Ignore the count."""


#: Default ``progress`` argument of library functions.
NO_PROGRESS: ProgressReporter = NoProgress()
