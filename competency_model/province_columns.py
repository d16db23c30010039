"""Reading a province for training: the event log column-wise, without what training never reads.

:func:`~competency_model.province.read_province` reads every column of every table as Python
objects. For ``nengli train`` on a million-teacher province that is about 30 million events whose
``event_id`` alone is 30 million distinct strings (gigabytes of objects) that no model reads. Here
a Parquet event table is read with only the columns training uses (teacher, item, kind, value,
time), ids and kinds as dictionary columns (pandas categoricals: one small integer a row and each
distinct id once), which :class:`~recommender.ranking.coded_events.CodedEvents` codes without
building strings. Every other table, and CSV event files (small provinces, spreadsheets), are read
as :func:`read_province` reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from competency_model.errors import DatasetError
from competency_model.province import Province, as_id_strings, read_province, timestamp_column

__all__ = ["TRAINING_EVENT_COLUMNS", "read_events_columns", "read_training_province"]

#: The event columns a model is trained on (``event_id`` is for idempotent ingestion only).
TRAINING_EVENT_COLUMNS: tuple[str, ...] = ("teacher_id", "item_id", "event", "value", "timestamp")
_DICTIONARY_COLUMNS = ("teacher_id", "item_id", "event")


def _id_categories(series: pd.Series) -> pd.Series:
    """A dictionary column whose categories are id strings (as ``as_id_strings`` casts ids)."""
    categories = series.cat.categories
    if pd.api.types.is_string_dtype(categories.dtype) or categories.dtype == object:
        strings = pd.Index(categories.astype(str))
    else:  # integer or float ids in the file: the strings read_province would give them
        strings = pd.Index(as_id_strings(pd.Series(categories)))
    if strings.has_duplicates:  # 1001 and "1001" in one file: merge them as read_province does
        return series.astype(str).astype("category")
    return series.cat.rename_categories(strings)


def read_events_columns(path: Path) -> pd.DataFrame:
    """The training columns of a Parquet event table, ids and kinds as categoricals.

    Raises
    ------
    DatasetError
        If the file cannot be read or lacks a column (naming it).
    """
    try:
        schema = pq.read_schema(path)
        missing = [c for c in TRAINING_EVENT_COLUMNS if c not in schema.names]
        if missing:
            raise DatasetError(
                f"table 'events' ({path}) is missing required column(s) {', '.join(missing)}; "
                f"training needs {', '.join(TRAINING_EVENT_COLUMNS)}",
                details={"table": "events", "missing_columns": missing},
            )
        table = pq.read_table(
            path, columns=list(TRAINING_EVENT_COLUMNS), read_dictionary=list(_DICTIONARY_COLUMNS)
        )
        # Hand the Arrow buffers over column by column instead of holding both copies at once.
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read table 'events' from {path}: {error}") from error
    del table
    for column in _DICTIONARY_COLUMNS:
        if not isinstance(frame[column].dtype, pd.CategoricalDtype):  # e.g. an all-null column
            frame[column] = frame[column].astype("category")
        frame[column] = _id_categories(frame[column])
    try:
        frame["value"] = frame["value"].astype("float64")
    except (ValueError, TypeError) as error:
        raise DatasetError(
            f"table 'events' ({path}) column 'value' is not a number ({error})",
            details={"table": "events", "column": "value"},
        ) from error
    frame["timestamp"] = timestamp_column(frame["timestamp"], "events", "timestamp")
    return frame


def read_training_province(directory: str | os.PathLike[str]) -> Province:
    """The province in ``directory`` as training reads it (see the module docstring).

    The returned events have no ``event_id`` when they came from Parquet; everything else is as
    :func:`read_province` returns it.
    """
    root = Path(directory)
    events_file = root / "events.parquet"
    if not events_file.is_file():
        return read_province(root)
    province = read_province(root, skip=("events",))
    province.events = read_events_columns(events_file)
    return province
