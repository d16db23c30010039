"""Bookkeeping for row validation: issues, chunk results and the per-chunk checker.

Kept apart from the table rules in :mod:`training_data.imports.validate` so that the rules read
as a list of checks, and so the HTTP layer can import :class:`Issue` without the rules.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ChunkResult", "Checker", "Issue", "Tally", "event_ids"]


@dataclass(frozen=True)
class Issue:
    """One rejected cell: where, what and why (zh + en)."""

    source: str
    row: int
    field: str
    value: str
    reason_zh: str
    reason_en: str


@dataclass
class ChunkResult:
    """Accepted rows of a chunk (table columns + ``_source``, ``_row``) and the issues found."""

    accepted: pd.DataFrame
    issues: list[Issue]
    rejected_rows: pd.DataFrame


def event_ids(teacher: pd.Series, item: pd.Series, event: pd.Series, when: pd.Series) -> pd.Series:
    """Stable event ids: a hash of the natural key, so re-importing a file cannot duplicate rows."""
    stamps = when.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    keys = teacher + "|" + item + "|" + event + "|" + stamps
    return keys.map(
        lambda key: "E" + hashlib.blake2b(key.encode("utf-8"), digest_size=10).hexdigest()
    )


class Checker:
    """Collects issues for one chunk; ``bad`` marks rows that already failed."""

    def __init__(self, cells: pd.DataFrame, rows: np.ndarray, source: str) -> None:
        self.cells = cells
        self.rows = rows
        self.source = source
        self.bad = np.zeros(len(cells), dtype=bool)
        self.issues: list[Issue] = []

    def has(self, field: str) -> bool:
        """Whether the file has the column ``field`` (after mapping)."""
        return field in self.cells

    def flag(self, mask: pd.Series | np.ndarray, field: str, zh: str, en: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        values = self.cells[field] if field in self.cells else pd.Series([""] * len(self.cells))
        for position in np.flatnonzero(mask):
            self.issues.append(
                Issue(
                    self.source, int(self.rows[position]), field, str(values.iloc[position]), zh, en
                )
            )
        self.bad |= mask

    def text(self, field: str, required: bool = True) -> pd.Series:
        column = (
            self.cells[field].str.strip()
            if field in self.cells
            else pd.Series([""] * len(self.cells), dtype=str)
        )
        if required:
            self.flag(column.eq(""), field, "必填项为空", "required value is empty")
        return column

    def checked(
        self, field: str, parsed: pd.Series, zh: str, en: str, ok: pd.Series | None = None
    ) -> pd.Series:
        """Flag non-empty cells whose ``parsed`` value is missing (or fails ``ok``)."""
        present = self.cells[field].str.strip().ne("") if field in self.cells else parsed.notna()
        failed = parsed.isna() if ok is None else (parsed.isna() | ~ok.fillna(False).astype(bool))
        self.flag(present & failed, field, zh, en)
        return parsed


@dataclass
class Tally:
    """What the rules decided on their own, counted over all chunks, for the report.

    ``derived`` counts rows per (source, table, field, how, value) where a value came from an
    option, the key, a derivation or a default; ``notes`` counts cell values per
    (warning code, source, column), e.g. the unknown subjects of a file.
    """

    derived: Counter[tuple[str, str, str, str, str]] = field(default_factory=Counter)
    notes: dict[tuple[str, str, str], Counter[str]] = field(default_factory=dict)

    def derive(self, source: str, table: str, column: str, how: str, value: str, rows: int) -> None:
        """Count ``rows`` whose ``column`` was filled by ``how`` with ``value``."""
        if rows:
            self.derived[(source, table, column, how, value)] += int(rows)

    def note(self, code: str, source: str, column: str, values: pd.Series) -> None:
        """Count the cell ``values`` behind warning ``code`` (nothing when empty)."""
        if len(values):
            counts = self.notes.setdefault((code, source, column), Counter())
            counts.update(values.astype(str).value_counts().to_dict())
