"""One teacher × point mastery table for every school-level view.

Diagnoses arrive long (``teacher_id, point, mastery_probability`` from
``DiagnosisModel.diagnose``) while the simulator's truth arrives wide (``teacher_id`` plus one
column per point). School plans, portraits and pairing all aggregate the same matrix, so it is
normalised here once: rows = teachers, columns = point codes (framework order), float values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from competency_model.errors import ImportRowError

__all__ = ["attach_teachers", "mastery_matrix"]


def mastery_matrix(table: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Teacher × point mastery (index ``teacher_id``, columns ``codes``, float64).

    Parameters
    ----------
    table
        Long form with ``teacher_id``, ``point``, ``mastery_probability`` or wide form with
        ``teacher_id`` and one column per code (e.g. ``truth_mastery``).
    codes
        Framework codes; every one must be present. Missing cells stay NaN so that aggregates
        skip them instead of counting them as zero mastery.

    Raises
    ------
    ImportRowError
        When neither layout is recognised or a value lies outside [0, 1].
    """
    codes = list(codes)
    if {"teacher_id", "point", "mastery_probability"} <= set(table.columns):
        wide = table.pivot_table(
            index="teacher_id", columns="point", values="mastery_probability", aggfunc="mean"
        )
        wide = wide.reindex(columns=codes)
    elif "teacher_id" in table.columns and set(codes) <= set(table.columns):
        wide = table.set_index("teacher_id")[codes]
    else:
        raise ImportRowError(
            "mastery table needs columns teacher_id, point, mastery_probability (long) or "
            f"teacher_id plus one column per point code such as {codes[:3]} (wide); got "
            f"{list(table.columns)[:8]}"
        )
    wide = wide.astype(np.float64)
    values = wide.to_numpy()
    bad = np.argwhere((values < 0) | (values > 1))
    if len(bad):
        row, col = bad[0]
        raise ImportRowError(
            f"mastery of teacher {wide.index[row]!r} on {codes[col]} is {values[row, col]}; "
            "mastery probabilities must lie in [0, 1]"
        )
    wide.index = wide.index.astype(str)
    wide.columns.name = None
    return wide


def attach_teachers(mastery: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """Join school, 教研组 and stage onto the mastery matrix (teachers without a row dropped)."""
    keep = [
        c
        for c in ("teacher_id", "school_id", "research_group", "stage", "subject")
        if c in teachers.columns
    ]
    info = teachers[keep].astype({"teacher_id": str}).set_index("teacher_id")
    return info.join(mastery, how="inner")
