"""``nengli import --inspect``: how each file will be read, before anything is written.

For every file (or sheet): the table it was taken for, how each header will be read (a
column, personal data dropped, ignored, or unmapped-but-meaningful), and the first rows as the
province will hold them. Nothing is written; the warnings are those the import would give.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pydantic import BaseModel

from competency_model.catalog import Catalog, default_catalog
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import default_item_bank
from competency_model.vocabulary import Vocabulary
from training_data.imports.classify import rewrite_values
from training_data.imports.importer import now_limit, open_plans
from training_data.imports.options import ImportOptions
from training_data.imports.validate import Validator

__all__ = ["ColumnPlan", "FileInspection", "inspect_files"]


class ColumnPlan(BaseModel):
    """One header and how it will be read."""

    header: str
    read_as: str


class FileInspection(BaseModel):
    """What ``--inspect`` shows for one file or sheet."""

    file: str
    table: str
    encoding: str | None
    header_row: int
    columns: list[ColumnPlan]
    sample: list[dict[str, str]]
    sample_problems: list[str]


def _read_as(
    header: str, plan_columns: dict[str, str], private: list[str], unmapped: set[str]
) -> str:
    if header in plan_columns:
        return plan_columns[header]
    if header in private:
        return "(personal data: dropped)"
    if header in unmapped:
        return "(UNMAPPED: looks meaningful, not read — see warnings)"
    return "(ignored)"


def inspect_files(
    paths: Iterable[str | os.PathLike[str]],
    options: ImportOptions | None = None,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    vocabulary: Vocabulary | None = None,
    sample_rows: int = 5,
) -> list[FileInspection]:
    """Describe how every file under ``paths`` will be read; writes nothing.

    The sample rows are validated like an import, without the known-teacher check (the
    target province is not consulted), so the values shown are the mapped ones.
    """
    options = options or ImportOptions()
    framework = framework or default_framework()
    out: list[FileInspection] = []
    for source, plan in open_plans(paths, options):
        try:
            validator = Validator(
                framework,
                catalog or default_catalog(),
                None,
                now_limit(None),
                default_item_bank(),
                vocabulary=vocabulary,
                options=options,
            )
            chunk = next(iter(source.chunks()), None)
            sample: list[dict[str, str]] = []
            problems: list[str] = []
            if chunk is not None:
                cells = chunk.cells[list(plan.mapping)].rename(columns=plan.mapping)
                filled = (cells.apply(lambda c: c.str.strip()) != "").any(axis=1).to_numpy()
                head = np.flatnonzero(filled)[:sample_rows]
                cells = rewrite_values(cells.iloc[head].reset_index(drop=True), plan.values)
                result = validator.validate(
                    plan.table, cells, chunk.row_numbers[head], source.label
                )
                shown = result.accepted.drop(columns=["_source"], errors="ignore")
                sample = [
                    {k: "" if pd.isna(v) else str(v) for k, v in row.items()}
                    for row in shown.to_dict("records")
                ]
                problems = [
                    f"row {i.row} {i.field}={i.value!r}: {i.reason_zh} / {i.reason_en}"
                    for i in result.issues
                ]
        finally:
            source.close()
        unmapped = set(plan.unmapped.values())
        out.append(
            FileInspection(
                file=source.label,
                table=plan.table,
                encoding=source.encoding,
                header_row=source.header_row,
                columns=[
                    ColumnPlan(
                        header=h,
                        read_as=_read_as(
                            h, plan.report.columns, plan.report.dropped_private_columns, unmapped
                        ),
                    )
                    for h in source.headers
                    if h.strip()
                ],
                sample=sample,
                sample_problems=problems,
            )
        )
    return out
