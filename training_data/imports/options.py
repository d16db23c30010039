"""What the person importing tells the importer: defaults for absent columns and a mapping file.

Both are pydantic models, validated like any input: a mapping file that names an unknown
column or table is refused with the key that is wrong, before any export is read.

A mapping file covers a dialect the header aliases do not (``nengli import --mapping map.json``)::

    {"files": {
        "学习记录*.csv": {
            "table": "events",
            "columns": {"课程代码": "item_id", "学习情况": "state", "备注": null},
            "values": {"state": {"通过": "已完成", "挂起": "未完成"}}
        }
    }}

Keys of ``files`` are a file name, a workbook sheet (``book.xlsx[学习记录]``) or a glob
(``*.csv``, ``*``); the first key that matches a file in file order is used. ``columns`` maps a
header to a column of :data:`~training_data.imports.headers.HEADER_ALIASES` (``null``: ignore it
on purpose, no warning); ``values`` rewrites cells of a column before they are read.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from competency_model.errors import ImportRowError, first_validation_problem
from training_data.imports.headers import HEADER_ALIASES, clean_header

__all__ = ["FileMapping", "ImportOptions", "MappingFile", "load_mapping"]

TableName = Literal["schools", "teachers", "events", "grades", "responses"]


def _check_field(name: str) -> str:
    if name not in HEADER_ALIASES:
        raise ValueError(f"unknown column {name!r}; use one of {', '.join(HEADER_ALIASES)}")
    return name


class FileMapping(BaseModel):
    """How to read one file (or sheet): its table, header → column, and value rewrites."""

    model_config = ConfigDict(extra="forbid")

    table: TableName | None = None
    columns: dict[str, str | None] = {}
    values: dict[str, dict[str, str]] = {}

    @field_validator("columns")
    @classmethod
    def _known_targets(cls, columns: dict[str, str | None]) -> dict[str, str | None]:
        for target in columns.values():
            if target is not None:
                _check_field(target)
        return columns

    @field_validator("values")
    @classmethod
    def _known_value_columns(cls, values: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for name in values:
            _check_field(name)
        return values

    def cleaned_headers(self) -> set[str]:
        """The headers this mapping names, cleaned (so header detection finds them)."""
        return {clean_header(h) for h in self.columns}


class MappingFile(BaseModel):
    """A mapping document: per file (name, sheet label or glob) how to read it."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, FileMapping] = Field(min_length=1)

    def for_file(self, label: str, name: str) -> FileMapping | None:
        """The mapping of a sheet ``label`` of file ``name``: exact label, name, then globs."""
        for key in (label, name):
            if key in self.files:
                return self.files[key]
        for pattern, mapping in self.files.items():
            if fnmatch.fnmatch(label, pattern) or fnmatch.fnmatch(name, pattern):
                return mapping
        return None

    def all_headers(self) -> set[str]:
        """Every header any entry names, cleaned."""
        return set().union(*(m.cleaned_headers() for m in self.files.values()))


def load_mapping(path: str | os.PathLike[str]) -> MappingFile:
    """Read and validate a mapping file.

    Raises
    ------
    ImportRowError
        If the file is missing, not JSON, or breaks the schema; the message names the key.
    """
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ImportRowError(
            f"cannot read mapping file {file}: {error}", details={"file": str(file)}
        ) from error
    try:
        return MappingFile.model_validate(raw)
    except ValidationError as error:
        where, message, value = first_validation_problem(error)
        raise ImportRowError(
            f"mapping file {file.name}: {where or 'document'}: {message} (got {value!r}); see "
            "docs/data-formats.md, 'Mapping files'",
            details={"file": str(file), "field": where},
        ) from error


class ImportOptions(BaseModel):
    """Defaults for columns an export lacks, and how to treat a partial province.

    Attributes
    ----------
    region, city, district
        Values for schools whose file has no such column (``nengli import --region``; the
        HTTP service passes the importing key's region).
    region_source
        Where ``region`` came from, as the report shows it: ``"option"`` or ``"key"``.
    export_date
        The date the export was taken; a grade without a date gets it (flagged
        ``assessed_at_inferred``). Default: the day of the import.
    missing_schools
        Teachers naming a school that is neither stored nor in the batch: ``"infer"`` adds the
        school (flagged ``inferred``), ``"reject"`` rejects those teacher rows.
    mapping
        A mapping file for dialects the aliases do not cover.
    """

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, min_length=1)
    city: str | None = Field(default=None, min_length=1)
    district: str | None = Field(default=None, min_length=1)
    region_source: Literal["option", "key"] = "option"
    export_date: dt.date | None = None
    missing_schools: Literal["infer", "reject"] = "infer"
    mapping: MappingFile | None = None
