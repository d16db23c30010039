"""Batch scoring: every teacher's top N items of a fitted recommender, as one long table.

Each list is the one the service would answer for the teacher on the same model
(:meth:`HybridRecommender.rank_row`, personalised, nothing excluded), so a precomputed list can
stand in for the live one. ``all`` merges the course and task rankings by the ranker's score
(one ranker scores both kinds of a teacher, so the scores compare), ties by item id.

Each row carries the item's reasons (``reasons_zh``, ``reasons_en``), rendered here from the same
ranking: a teacher's reasons depend on the model, the teacher and the item, not on the kind of
list or what is excluded, so the service shows them without rebuilding them per request (the
part of a request that explaining took, issue 15 §3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.ranking import HybridRecommender

__all__ = ["LIST_COLUMNS", "LIST_KINDS", "top_lists"]

#: The list kinds written per teacher.
LIST_KINDS: tuple[str, ...] = ("course", "task", "all")
LIST_COLUMNS: tuple[str, ...] = (
    "teacher_id",
    "kind",
    "rank",
    "item_id",
    "score",
    "reasons_zh",
    "reasons_en",
)


def top_lists(model: HybridRecommender, top_n: int) -> pd.DataFrame:
    """Top ``top_n`` per teacher and kind: teacher_id, kind, rank (1 = best), item_id, score and
    the item's reasons (lists of str, zh and en) as the live list explains them."""
    if top_n < 1:
        raise ValueError(f"top_n={top_n} must be at least 1")
    teacher_ids = model.teachers_.teacher_ids.tolist()
    out_teacher: list[str] = []
    out_kind: list[str] = []
    out_rank: list[int] = []
    out_item: list[str] = []
    out_score: list[float] = []
    out_zh: list[list[str]] = []
    out_en: list[list[str]] = []
    for row, teacher in enumerate(teacher_ids):
        merged: list[tuple[float, str]] = []
        # Explained once per item: the "all" list shows the same items with the same reasons.
        reasons: dict[str, tuple[list[str], list[str]]] = {}
        for kind in ("course", "task"):
            ranked = model.rank_row(row, kind, depth=top_n)  # type: ignore[arg-type]
            scores = np.asarray(ranked.scores, dtype=np.float64)[:top_n].tolist()
            items = list(ranked.item_ids[:top_n])
            merged += zip(scores, items, strict=True)
            for position, (score, item) in enumerate(zip(scores, items, strict=True), start=1):
                zh, en = reasons[item] = ranked.reasons(position - 1)
                out_teacher.append(teacher)
                out_kind.append(kind)
                out_rank.append(position)
                out_item.append(item)
                out_score.append(score)
                out_zh.append(zh)
                out_en.append(en)
        merged.sort(key=lambda pair: (-pair[0], pair[1]))
        for position, (score, item) in enumerate(merged[:top_n], start=1):
            zh, en = reasons[item]
            out_teacher.append(teacher)
            out_kind.append("all")
            out_rank.append(position)
            out_item.append(item)
            out_score.append(score)
            out_zh.append(zh)
            out_en.append(en)
    return pd.DataFrame(
        {
            "teacher_id": out_teacher,
            "kind": out_kind,
            "rank": np.asarray(out_rank, dtype=np.int16),
            "item_id": out_item,
            "score": np.asarray(out_score, dtype=np.float64),
            "reasons_zh": out_zh,
            "reasons_en": out_en,
        }
    )
