"""The import report: per file what was read, what was defaulted or derived, and every warning.

Nothing an import decides on its own is silent. A column that looks meaningful but is not
mapped, a rule that changed how many rows count as completions, a default taken from an option
or the importing key, an inferred school or 选点, an unknown subject: each is an entry here, and
the CLI prints the warnings before anything else.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel

__all__ = [
    "Derivation",
    "FileReport",
    "ImportReport",
    "ImportWarning",
    "RejectedRow",
    "top_values",
]

#: Distinct values listed per warning (with counts); the rest are summed up in ``rows``.
SHOWN_VALUES = 20


class RejectedRow(BaseModel):
    """One problem in one row, as shown to the person who exported the file."""

    file: str
    row: int
    field: str
    value: str
    reason_zh: str
    reason_en: str


class ImportWarning(BaseModel):
    """Something the import did or could not do that changes how the data reads.

    ``code`` is stable for programs: ``unmapped_column``, ``completion_rule``,
    ``unknown_subject``, ``schools_inferred``, ``chosen_points_inferred``,
    ``assessed_at_inferred``, ``timestamp_inferred``, ``defaulted``.
    """

    code: str
    file: str | None = None
    column: str | None = None
    rows: int = 0
    values: dict[str, int] = {}
    message_zh: str
    message_en: str


class Derivation(BaseModel):
    """A column filled by the importer instead of the file, and how."""

    file: str
    table: str
    field: str
    how: Literal["option", "key", "derived", "default", "inferred", "normalised"]
    value: str | None = None
    rows: int = 0


class FileReport(BaseModel):
    """What happened to one file (or one workbook sheet)."""

    file: str
    table: str
    encoding: str | None
    header_row: int
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    dropped_private_columns: list[str] = []
    ignored_columns: list[str] = []
    columns: dict[str, str] = {}


class ImportReport(BaseModel):
    """Outcome of an import: warnings first, counts, per-file details, and the rejected rows."""

    warnings: list[ImportWarning] = []
    accepted: int = 0
    rejected: int = 0
    files: list[FileReport] = []
    derived: list[Derivation] = []
    rejected_rows: list[RejectedRow] = []
    rejected_rows_truncated: bool = False
    written: bool = False
    mode: str | None = None
    out_dir: str | None = None
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    unchanged: dict[str, int] = {}

    def warning_codes(self) -> list[str]:
        """The codes of the warnings, in report order (handy in tests and scripts)."""
        return [w.code for w in self.warnings]


def top_values(counts: Counter[str]) -> dict[str, int]:
    """The most frequent values of a counter, at most :data:`SHOWN_VALUES`, most frequent first."""
    return dict(counts.most_common(SHOWN_VALUES))
