"""The unit every reader produces: a :class:`Source` (one CSV or sheet) yielding :class:`Chunk` s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CHUNK_ROWS", "Chunk", "SharedCloser", "Source"]

#: Rows per chunk: a province-wide export never has to fit in memory at once.
CHUNK_ROWS = 50_000


@dataclass
class Chunk:
    """A block of rows: text cells (one column per header position) and their row numbers."""

    cells: pd.DataFrame
    row_numbers: np.ndarray


@dataclass
class Source:
    """One table-shaped unit of input: a CSV file or one sheet of a workbook.

    ``header_row`` is the 1-based row of the (last) header row as the user sees it.
    """

    path: Path
    label: str
    headers: list[str]
    header_row: int
    encoding: str | None
    _chunks: Iterator[Chunk] = field(repr=False)
    close: Callable[[], None] = field(default=lambda: None, repr=False)

    def chunks(self) -> Iterator[Chunk]:
        """The data rows, chunk by chunk (can be consumed once)."""
        return self._chunks


class SharedCloser:
    """Closes a resource shared by several sources when the last of them is closed."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close
        self._users = 0

    def handle(self) -> Callable[[], None]:
        """A close function for one more user of the resource."""
        self._users += 1
        done = False

        def close() -> None:
            nonlocal done
            if done:
                return
            done = True
            self._users -= 1
            if self._users == 0:
                self._close()

        return close
