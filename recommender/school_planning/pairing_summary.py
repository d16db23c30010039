"""What 结对帮扶 needs of a school, summarised from its teachers' mastery.

Pairing compares schools by their mean mastery per point and names mentors among a partner
school's strongest teachers on at most three focus points (one mentor per point, a teacher
mentors at most one point per pair). So a school is fully described, for pairing, by its
number of teachers, its mean per point and its three best teachers per point: the third one is
needed when the two ahead of it already mentor the pair's earlier focus points. Storing this
summary when a school's mastery is stored lets a region's pairing read one row per school
instead of every teacher of the region.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MENTOR_DEPTH", "SchoolSummary", "summarise_schools"]

#: Teachers kept per point: enough for three focus points with one mentor each.
MENTOR_DEPTH = 3


@dataclass(frozen=True)
class SchoolSummary:
    """One school's mastery as pairing sees it.

    ``means[j]`` is the mean over the school's teachers of point ``j`` (framework order),
    skipping teachers without a value, ``None`` when none has one; ``top[j]`` lists up to
    :data:`MENTOR_DEPTH` ``(teacher_id, research_group, mastery)`` in the order
    :func:`~recommender.school_planning.pairing.mentor_teachers` ranks them: mastery
    descending (missing values last), then teacher id ascending.
    """

    n_teachers: int
    means: list[float | None]
    top: list[list[tuple[str, str, float | None]]]


def _group(value: object) -> str:
    """A 教研组 as the planning frames carry it (missing as the empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def summarise_schools(
    teacher_mastery: pd.DataFrame, codes: Sequence[str]
) -> dict[str, SchoolSummary]:
    """The :class:`SchoolSummary` of every school in ``teacher_mastery``.

    Parameters
    ----------
    teacher_mastery
        Index ``teacher_id``; columns ``school_id``, optionally ``research_group``, and
        ``codes`` (NaN where a teacher has no value), as
        :func:`~recommender.school_planning.mastery.attach_teachers` returns it.
    codes
        Framework codes, in the order of the summary's lists.

    Notes
    -----
    Means are pandas' group means over the teachers sorted by id — the same computation (and
    so the same floats) as :func:`~recommender.school_planning.pairing.school_mastery` over a
    region's stored rows, which are read in teacher-id order.
    """
    codes = list(codes)
    if teacher_mastery.empty:
        return {}
    frame = teacher_mastery.copy()
    frame.index = frame.index.astype(str)
    frame = frame.sort_index(kind="stable")
    schools = frame["school_id"].astype(str).to_numpy()
    teacher_ids = frame.index.to_numpy()
    groups = (
        [_group(g) for g in frame["research_group"]]
        if "research_group" in frame
        else [""] * len(frame)
    )
    means = frame.groupby(schools)[codes].mean()
    school_ids = means.index.astype(str).to_numpy()
    school_code = pd.Index(school_ids).get_indexer(schools)
    counts = np.bincount(school_code, minlength=len(school_ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_by_id = np.arange(len(frame))  # the frame is in teacher-id order
    values = frame[codes].to_numpy(dtype=float)
    top: list[list[list[tuple[str, str, float | None]]]] = [[[] for _ in codes] for _ in school_ids]
    for j in range(len(codes)):
        column = values[:, j]
        missing = np.isnan(column)
        # mentor_teachers' order: mastery descending, missing last, then teacher id ascending.
        order = np.lexsort((rank_by_id, -np.nan_to_num(column, nan=0.0), missing, school_code))
        place = np.arange(len(order)) - starts[school_code[order]]
        for row in order[place < MENTOR_DEPTH]:
            value = column[row]
            top[school_code[row]][j].append(
                (str(teacher_ids[row]), groups[row], None if missing[row] else float(value))
            )
    table = means.to_numpy(dtype=float)
    return {
        str(school_id): SchoolSummary(
            n_teachers=int(counts[i]),
            means=[None if math.isnan(v) else float(v) for v in table[i]],
            top=top[i],
        )
        for i, school_id in enumerate(school_ids)
    }
