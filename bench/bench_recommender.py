"""Benchmark: train the hybrid recommender on N teachers / M events and time top-10 for one teacher.

The province is generated here, vectorised, rather than by the full simulator, so that the
benchmark measures the recommender and not the simulator or the diagnosis: teachers belong to
schools and 教研组, pick catalog items with a popularity × subject-affinity preference, and each
picked item yields enrol / progress / complete (and sometimes rate) events, about three events
per item. Mastery is drawn at random (the diagnosis has its own benchmark).

Usage::

    python bench/bench_recommender.py --small                    # seconds
    nice -n 10 python bench/bench_recommender.py --teachers 1000000 --items-per-teacher 10

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from competency_model.catalog import load_catalog
from competency_model.framework import ENVIRONMENTS, default_framework
from recommender.ranking import HybridRecommender


@dataclass
class BenchProvince:
    schools: pd.DataFrame
    teachers: pd.DataFrame
    events: pd.DataFrame


def make_province(
    n_teachers: int, items_per_teacher: int, seed: int
) -> tuple[BenchProvince, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    items = list(catalog.items)
    codes = framework.codes
    n_schools = max(1, n_teachers // 100)
    schools = pd.DataFrame(
        {
            "school_id": [f"S{i + 1:06d}" for i in range(n_schools)],
            "region": "江苏",
            "city": "南京",
            "district": "玄武",
            "urban_rural": "urban",
            "environment": rng.choice(ENVIRONMENTS, n_schools, p=[0.5, 0.35, 0.15]),
            "n_teachers": 0,
            "chosen_points": "A1;A3;B2",
            "rollout_batch": 1,
        }
    )
    stage_subjects = [
        ("小学", "语文"),
        ("小学", "数学"),
        ("小学", "英语"),
        ("初中", "数学"),
        ("初中", "物理"),
        ("高中", "化学"),
        ("高中", "语文"),
    ]
    pair = rng.integers(0, len(stage_subjects), n_teachers)
    stage = np.array([s for s, _ in stage_subjects])[pair]
    subject = np.array([j for _, j in stage_subjects])[pair]
    teacher_ids = np.char.add("T", np.char.zfill(np.arange(1, n_teachers + 1).astype(str), 7))
    school_of = rng.integers(0, n_schools, n_teachers)
    teachers = pd.DataFrame(
        {
            "teacher_id": teacher_ids,
            "school_id": schools["school_id"].to_numpy()[school_of],
            "stage": stage,
            "subject": subject,
            "years_of_service": rng.integers(1, 35, n_teachers),
            "research_group": np.char.add(np.char.add(stage, subject), "组"),
        }
    )
    # Item choice: popularity (Zipf-like) times a boost for items of the teacher's subject.
    base = 1.0 / np.arange(1, len(items) + 1) ** 0.8
    base = base[rng.permutation(len(items))]
    subject_of_item = [set(i.subjects) for i in items]
    n = n_teachers * items_per_teacher
    owner = np.repeat(np.arange(n_teachers), items_per_teacher)
    chosen = np.empty(n, dtype=np.int64)
    for p, (_, subj) in enumerate(stage_subjects):
        weights = base * np.array(
            [3.0 if subj in s else (1.5 if "通用" in s else 0.3) for s in subject_of_item]
        )
        weights /= weights.sum()
        rows = np.flatnonzero(pair[owner] == p)
        chosen[rows] = rng.choice(len(items), size=rows.size, p=weights)
    start = np.datetime64("2024-01-01T00:00:00")
    when = start + (rng.integers(0, 365 * 24 * 3600, n)).astype("timedelta64[s]")
    complete = rng.random(n) < 0.7
    rate = rng.random(n) < 0.2
    item_ids = np.array([i.item_id for i in items])
    parts = [
        (owner, chosen, "enrol", np.full(n, np.nan), when),
        (owner, chosen, "progress", rng.uniform(0.2, 1.0, n), when + np.timedelta64(3600, "s")),
        (
            owner[complete],
            chosen[complete],
            "complete",
            np.full(complete.sum(), np.nan),
            when[complete] + np.timedelta64(86400, "s"),
        ),
        (
            owner[rate],
            chosen[rate],
            "rate",
            rng.integers(1, 6, rate.sum()).astype(float),
            when[rate] + np.timedelta64(2 * 86400, "s"),
        ),
    ]
    events = pd.DataFrame(
        {
            "teacher_id": np.concatenate([teacher_ids[o] for o, *_ in parts]),
            "item_id": np.concatenate([item_ids[c] for _, c, *_ in parts]),
            "event": np.concatenate([np.full(len(o), e) for o, _, e, *_ in parts]),
            "value": np.concatenate([v for *_, v, _ in parts]),
            "timestamp": np.concatenate([w for *_, w in parts]),
        }
    )
    events.insert(0, "event_id", np.arange(len(events)))
    # Wide mastery (teacher_id + one column per point), which fit accepts as well as the long
    # diagnosis table; at a million teachers the long form alone is 30 million rows.
    mastery = pd.DataFrame(rng.beta(2, 2, (n_teachers, len(codes))), columns=codes)
    mastery.insert(0, "teacher_id", teacher_ids)
    return BenchProvince(schools, teachers, events), mastery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=20_000)
    parser.add_argument("--items-per-teacher", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=200, help="Teachers timed for top-10.")
    parser.add_argument("--small", action="store_true", help="2,000 teachers (a few seconds).")
    args = parser.parse_args()
    if args.small:
        args.teachers = 2_000
    t0 = time.perf_counter()
    province, mastery = make_province(args.teachers, args.items_per_teacher, args.seed)
    t1 = time.perf_counter()
    catalog = load_catalog()
    model = HybridRecommender(num_threads=args.threads, random_state=args.seed).fit(
        province, mastery, catalog, default_framework()
    )
    t2 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    queries = rng.choice(province.teachers["teacher_id"].to_numpy(), size=args.queries)
    full, cf_only = [], []
    for teacher in queries:
        s = time.perf_counter()
        model.recommend(str(teacher), k=10)
        full.append(time.perf_counter() - s)
        row = model.row_of(str(teacher))
        s = time.perf_counter()
        model.als_.recommend(row, k=10)
        cf_only.append(time.perf_counter() - s)
    # Select the new events before starting the clock: filtering 30 million rows is not fold-in.
    events = province.events
    new_events = events[events["teacher_id"] == queries[0]].head(3).copy()
    s = time.perf_counter()
    model.fold_in(str(queries[0]), new_events)
    fold_in = time.perf_counter() - s
    print(
        json.dumps(
            {
                "teachers": args.teachers,
                "events": int(len(province.events)),
                "catalog_items": int(len(model.items_.item_ids)),
                "threads": args.threads,
                "generate_seconds": round(t1 - t0, 2),
                "fit_seconds": round(t2 - t1, 2),
                "recommend_top10_ms": {
                    "median": round(1e3 * float(np.median(full)), 3),
                    "p95": round(1e3 * float(np.percentile(full, 95)), 3),
                },
                "als_top10_ms": {
                    "median": round(1e3 * float(np.median(cf_only)), 3),
                    "p95": round(1e3 * float(np.percentile(cf_only, 95)), 3),
                },
                "fold_in_ms": round(1e3 * fold_in, 2),
                "max_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "validation": model.validation_metrics_,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
