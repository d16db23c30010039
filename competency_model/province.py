"""The province: every table a model learns from, as one container with one on-disk layout.

The simulator, the platform importer and the service all produce or consume a :class:`Province`,
so the table names, column names and dtypes live here once. Reading normalises dtypes (ids as
``str``, timestamps as ``datetime64[us]``, ``chosen_points`` as a ``;``-joined string) so that a
Parquet directory, a CSV directory written by another tool and an in-memory simulation all look
identical to the code downstream.

Writing is atomic per directory: tables are written to a sibling temporary directory which then
replaces the target, so a crash or a full disk never leaves a province with half its tables
updated.

Example
-------
>>> province = read_province("data/demo")          # doctest: +SKIP
>>> write_province(province, "data/copy", format="csv")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from competency_model.errors import DatasetError

__all__ = [
    "CORE_TABLES",
    "ID_COLUMNS",
    "MANIFEST_NAME",
    "TABLE_COLUMNS",
    "TIMESTAMP_COLUMNS",
    "TIMESTAMP_DTYPE",
    "TRUTH_TABLES",
    "Province",
    "ProvinceTables",
    "as_id_strings",
    "atomic_directory",
    "empty_table",
    "normalize_table",
    "read_province",
    "timestamp_column",
    "write_province",
    "write_tables",
]

#: Required columns of each core table (contract: docs/contracts.md). Extra columns are kept.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": (
        "school_id",
        "region",
        "city",
        "district",
        "urban_rural",
        "environment",
        "n_teachers",
        "chosen_points",
        "rollout_batch",
    ),
    "teachers": (
        "teacher_id",
        "school_id",
        "stage",
        "subject",
        "years_of_service",
        "research_group",
    ),
    "responses": ("teacher_id", "item_id", "response"),
    "grades": ("teacher_id", "point", "grade", "assessed_at"),
    "events": ("event_id", "teacher_id", "item_id", "event", "value", "timestamp"),
}
CORE_TABLES: tuple[str, ...] = tuple(TABLE_COLUMNS)

#: Hidden ground truth written only by the simulator; optional everywhere.
TRUTH_TABLES: dict[str, tuple[str, ...]] = {
    "truth_mastery_initial": ("teacher_id",),
    "truth_mastery": ("teacher_id",),
    "truth_items": ("item_id",),
    "truth_preferences": ("teacher_id",),
}

#: Columns that hold identifiers or labels and are always strings, whatever the file said.
ID_COLUMNS: frozenset[str] = frozenset(
    {
        "school_id",
        "teacher_id",
        "item_id",
        "event_id",
        "point",
        "region",
        "city",
        "district",
        "urban_rural",
        "environment",
        "chosen_points",
        "stage",
        "subject",
        "research_group",
        "grade",
        "event",
    }
)
TIMESTAMP_COLUMNS: frozenset[str] = frozenset({"assessed_at", "timestamp"})
#: One resolution everywhere so that frames from CSV, Parquet and memory compare equal.
TIMESTAMP_DTYPE = "datetime64[us]"
_INT_COLUMNS: dict[str, str] = {
    "n_teachers": "int64",
    "rollout_batch": "int64",
    "years_of_service": "int64",
}
_FLOAT_COLUMNS: frozenset[str] = frozenset({"response", "value"})
#: Timestamps in platform exports are Beijing time; tz-aware values are converted to it.
LOCAL_TIMEZONE = "Asia/Shanghai"
MANIFEST_NAME = "province.json"
Format = Literal["parquet", "csv"]
_FORMATS: tuple[str, ...] = ("parquet", "csv")


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty, correctly typed frame for the core table ``name``."""
    if name not in TABLE_COLUMNS:
        raise DatasetError(f"unknown table {name!r}; expected one of {', '.join(CORE_TABLES)}")
    return normalize_table(name, pd.DataFrame({c: [] for c in TABLE_COLUMNS[name]}))


class ProvinceTables(Protocol):
    """The core tables a model reads, as :class:`Province` and any subset of it hold them.

    Fitting and diagnosing read only these five tables, so they accept a service's cohort of
    some schools as well as a whole province.
    """

    @property
    def schools(self) -> pd.DataFrame: ...

    @property
    def teachers(self) -> pd.DataFrame: ...

    @property
    def responses(self) -> pd.DataFrame: ...

    @property
    def grades(self) -> pd.DataFrame: ...

    @property
    def events(self) -> pd.DataFrame: ...


@dataclass
class Province:
    """All tables of one province (or one import), core tables required, truth optional.

    Attributes
    ----------
    schools, teachers, responses, grades, events
        The core tables; columns as in :data:`TABLE_COLUMNS`.
    truth_mastery_initial, truth_mastery, truth_items, truth_preferences
        Simulator ground truth. ``None`` for real data, so evaluation code can tell the two
        apart instead of silently scoring against nothing.
    """

    schools: pd.DataFrame = field(default_factory=lambda: empty_table("schools"))
    teachers: pd.DataFrame = field(default_factory=lambda: empty_table("teachers"))
    responses: pd.DataFrame = field(default_factory=lambda: empty_table("responses"))
    grades: pd.DataFrame = field(default_factory=lambda: empty_table("grades"))
    events: pd.DataFrame = field(default_factory=lambda: empty_table("events"))
    truth_mastery_initial: pd.DataFrame | None = None
    truth_mastery: pd.DataFrame | None = None
    truth_items: pd.DataFrame | None = None
    truth_preferences: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables that are present (core tables always, truth tables if set)."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    @property
    def has_truth(self) -> bool:
        """Whether simulator ground truth is attached."""
        return self.truth_mastery is not None

    def normalized(self) -> Province:
        """Return a copy with every table checked and cast to the canonical dtypes."""
        return Province(**{name: normalize_table(name, df) for name, df in self.tables().items()})

    def row_counts(self) -> dict[str, int]:
        """Number of rows per present table (for manifests and reports)."""
        return {name: len(df) for name, df in self.tables().items()}

    def for_teachers(self, teacher_ids: Iterable[str]) -> Province:
        """The sub-province of ``teacher_ids``: their rows in every table, and their schools.

        Useful for diagnosing one school or a held-out group without copying the whole
        province; truth tables are filtered the same way (``truth_items`` is kept whole).
        """
        wanted = pd.Index(list(teacher_ids)).astype(str)
        tables: dict[str, pd.DataFrame] = {}
        for name, frame in self.tables().items():
            if "teacher_id" in frame.columns:
                tables[name] = frame[frame["teacher_id"].isin(wanted)].reset_index(drop=True)
            else:
                tables[name] = frame
        schools = tables["teachers"]["school_id"].unique()
        tables["schools"] = self.schools[self.schools["school_id"].isin(schools)].reset_index(
            drop=True
        )
        return Province(**tables)


def as_id_strings(series: pd.Series) -> pd.Series:
    """Cast ids to ``str`` keeping missing values missing; integral floats lose their ``.0``."""
    if pd.api.types.is_float_dtype(series.dtype):
        # A CSV round trip through another tool can turn 1001 into 1001.0; ids must not change.
        as_int = series.dropna()
        if (as_int == np.floor(as_int)).all():
            return series.astype("Int64").astype(str).where(series.notna())
    return series.astype(str)


def _join_points(value: object) -> object:
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return ";".join(str(v) for v in value)
    return value


def _to_timestamp(series: pd.Series, table: str, column: str) -> pd.Series:
    try:
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            parsed = series
        else:
            try:  # the fast path: files written by nengli use ISO 8601
                parsed = pd.to_datetime(series, errors="raise", format="ISO8601")
            except (ValueError, TypeError):
                parsed = pd.to_datetime(series, errors="raise", format="mixed")
    except (ValueError, TypeError) as error:
        raise DatasetError(
            f"table {table!r} column {column!r} holds a value that is not a date/time ({error}); "
            "write timestamps as ISO 8601, e.g. 2024-03-01 09:30:00"
        ) from error
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None)
    return parsed.astype(TIMESTAMP_DTYPE)


def normalize_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check the required columns of table ``name`` and cast them to canonical dtypes.

    Parameters
    ----------
    name
        A core table (:data:`TABLE_COLUMNS`) or a truth table (:data:`TRUTH_TABLES`).
    frame
        The table; extra columns are kept unchanged except truth mastery columns (``int8``).

    Raises
    ------
    DatasetError
        If a required column is missing or a value cannot be cast (the message names both).
    """
    required = TABLE_COLUMNS.get(name) or TRUTH_TABLES.get(name)
    if required is None:
        raise DatasetError(
            f"unknown table {name!r}; expected one of {', '.join([*CORE_TABLES, *TRUTH_TABLES])}"
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"table {name!r} is missing required column(s) {', '.join(missing)}; "
            f"it needs {', '.join(required)}",
            details={"table": name, "missing_columns": missing},
        )
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        try:
            if column == "chosen_points":
                out[column] = as_id_strings(out[column].map(_join_points)).fillna("")
            elif column in ID_COLUMNS:
                out[column] = as_id_strings(out[column])
            elif column in TIMESTAMP_COLUMNS:
                out[column] = _to_timestamp(out[column], name, column)
            elif column in _INT_COLUMNS and name in TABLE_COLUMNS:
                out[column] = out[column].astype(_INT_COLUMNS[column])
            elif column in _FLOAT_COLUMNS and name in TABLE_COLUMNS:
                out[column] = out[column].astype("float64")
            elif name in ("truth_mastery", "truth_mastery_initial"):
                out[column] = out[column].astype("int8")
        except (ValueError, TypeError) as error:
            raise DatasetError(
                f"table {name!r} column {column!r} cannot be read as the expected type ({error})",
                details={"table": name, "column": column},
            ) from error
    return out


@contextlib.contextmanager
def atomic_directory(out_dir: str | os.PathLike[str], owned: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a temporary directory that atomically replaces ``out_dir`` on success.

    Entries of an existing ``out_dir`` whose names are not in ``owned`` (and not written to the
    temporary directory) are carried over, so pointing ``--out`` at a folder that also holds,
    say, a model directory does not delete it. On an exception the temporary directory is
    removed and ``out_dir`` is left exactly as it was.
    """
    target = Path(out_dir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        if target.exists():
            if not target.is_dir():
                raise DatasetError(f"{target} exists and is not a directory; choose another --out")
            written = {p.name for p in staging.iterdir()}
            for entry in target.iterdir():
                if entry.name not in written and entry.name not in owned:
                    os.replace(entry, staging / entry.name)
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / "old")
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _owned_names() -> list[str]:
    names = [MANIFEST_NAME]
    for table in [*CORE_TABLES, *TRUTH_TABLES]:
        names += [f"{table}.{fmt}" for fmt in _FORMATS]
    return names


def write_tables(province: Province, directory: Path, format: Format) -> dict[str, int]:
    """Write the tables of ``province`` into an existing ``directory`` (not atomic on its own)."""
    counts: dict[str, int] = {}
    for name, frame in province.normalized().tables().items():
        path = directory / f"{name}.{format}"
        if format == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, encoding="utf-8", date_format="%Y-%m-%d %H:%M:%S.%f")
        counts[name] = len(frame)
    manifest = {"format": format, "tables": counts}
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts


def write_province(
    province: Province, out_dir: str | os.PathLike[str], format: Format = "parquet"
) -> Path:
    """Write every present table of ``province`` to ``out_dir`` atomically.

    Parameters
    ----------
    province
        The tables to write; they are normalised first, so a bad column fails before any file
        is touched.
    out_dir
        Target directory; replaced as a whole (other files in it are kept).
    format
        ``"parquet"`` (default, typed and compact) or ``"csv"`` (UTF-8, for spreadsheets).

    Returns
    -------
    Path
        The resolved output directory.
    """
    if format not in _FORMATS:
        raise DatasetError(f"unknown format {format!r}; use 'parquet' or 'csv'")
    normalized = province.normalized()
    with atomic_directory(out_dir, owned=_owned_names()) as staging:
        write_tables(normalized, staging, format)
    return Path(out_dir).resolve()


def _read_table(path: Path, name: str) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        dtypes = {c: str for c in header if c in ID_COLUMNS}
        frame = pd.read_csv(
            path,
            dtype=dtypes,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values={c: [""] for c in header if c != "chosen_points"},
        )
        return frame
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read table {name!r} from {path}: {error}") from error


def timestamp_column(series: pd.Series, table: str, column: str) -> pd.Series:
    """``series`` as the canonical timestamp dtype (local time, no zone), or a named error."""
    return _to_timestamp(series, table, column)


def read_province(directory: str | os.PathLike[str], skip: Sequence[str] = ()) -> Province:
    """Read a province directory written by :func:`write_province` (or by hand, as CSV).

    Each table is looked up as ``<table>.parquet`` then ``<table>.csv``; truth tables are read
    when present. Core tables named in ``skip`` are not read (left empty): a caller that reads
    one its own way (``nengli train`` reads the events column-wise) saves the full read.

    Raises
    ------
    DatasetError
        If the directory or a core table is missing, or a table lacks a required column.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DatasetError(
            f"province directory {root} does not exist; run `nengli generate` "
            "or `nengli import` to create it"
        )
    tables: dict[str, pd.DataFrame] = {}
    for name in [*CORE_TABLES, *TRUTH_TABLES]:
        if name in skip:
            continue
        path = next(
            (root / f"{name}.{fmt}" for fmt in _FORMATS if (root / f"{name}.{fmt}").is_file()), None
        )
        if path is None:
            if name in TABLE_COLUMNS:
                raise DatasetError(
                    f"province directory {root} has no table {name!r} "
                    f"(expected {name}.parquet or {name}.csv)",
                    details={"table": name, "directory": str(root)},
                )
            continue
        tables[name] = normalize_table(name, _read_table(path, name))
    return Province(**tables)
