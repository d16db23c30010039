"""Precomputed lists for the benchmarks: every teacher of a trained model ranked once.

Written in the batch's file format (teacher_id, kind, item_id, rank, score, model_version)
from :meth:`HybridRecommender.ranked` — the ranking a live request computes — and loaded with
:func:`service.db.list_store.load_lists`, the code path of ``nengli batch-load``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["write_and_load_lists"]


def write_and_load_lists(
    model_dir: Path, database_url: str, out: Path, depth: int = 30
) -> dict[str, float]:
    """Rank every teacher of ``model_dir`` (course and task), write ``out``, load it."""
    from recommender.bundle import load_bundle
    from service.db.engine import make_engine, make_session_factory
    from service.db.list_store import load_lists
    from service.db.migrate import upgrade_database

    started = time.perf_counter()
    bundle = load_bundle(model_dir)
    recommender = bundle.recommender
    columns: dict[str, list[object]] = {
        c: [] for c in ("teacher_id", "kind", "item_id", "rank", "score", "model_version")
    }
    for teacher in recommender.state_.teachers.teacher_ids.tolist():
        row = recommender.row_of(str(teacher))
        for kind in ("course", "task"):
            ranking = recommender.rank_row(row, kind, depth=depth)
            for rank, (item, score) in enumerate(
                zip(ranking.item_ids, ranking.scores.tolist(), strict=True), start=1
            ):
                columns["teacher_id"].append(str(teacher))
                columns["kind"].append(kind)
                columns["item_id"].append(item)
                columns["rank"].append(rank)
                columns["score"].append(score)
                columns["model_version"].append(bundle.version)
    pq.write_table(pa.table(columns), out)
    ranked = time.perf_counter() - started
    engine = make_engine(database_url)
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        loaded = load_lists(session, out)
    engine.dispose()
    return {
        "rank_seconds": round(ranked, 1),
        "load_seconds": round(time.perf_counter() - started - ranked, 1),
        "rows": loaded.n_rows,
        "teachers": loaded.n_teachers,
    }
