"""Fixtures for the recommender tests: a small, fast, seeded province with known gaps.

The project's simulator is the evaluation workhorse; these tests need something smaller and
fully under their control, so they draw a 150-teacher province here whose teachers pick items
that develop their (known) gaps, mostly in their own subject, with a 教研组 preference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import ENVIRONMENTS, default_framework


@dataclass
class SmallProvince:
    schools: pd.DataFrame
    teachers: pd.DataFrame
    events: pd.DataFrame
    mastery: pd.DataFrame
    truth_mastery_initial: pd.DataFrame
    grades: pd.DataFrame


def make_small_province(n_teachers: int = 150, n_schools: int = 6, seed: int = 5) -> SmallProvince:
    rng = np.random.default_rng(seed)
    framework = default_framework()
    catalog = load_catalog()
    codes = framework.codes
    env_rank = np.array([ENVIRONMENTS.index(framework.point(c).environment) for c in codes])
    schools = pd.DataFrame(
        {
            "school_id": [f"S{i + 1:06d}" for i in range(n_schools)],
            "region": "江苏",
            "city": "南京",
            "district": "玄武",
            "urban_rural": ["urban", "rural"] * (n_schools // 2) + ["urban"] * (n_schools % 2),
            "environment": [ENVIRONMENTS[i % 3] for i in range(n_schools)],
            "n_teachers": 0,
            "chosen_points": [
                ";".join(
                    rng.choice(
                        [c for c, r in zip(codes, env_rank, strict=True) if r <= i % 3],
                        3,
                        replace=False,
                    )
                )
                for i in range(n_schools)
            ],
            "rollout_batch": 1,
        }
    )
    subjects = {"小学": ["语文", "数学"], "初中": ["数学", "物理"]}
    stage = rng.choice(["小学", "初中"], n_teachers)
    subject = np.array([rng.choice(subjects[s]) for s in stage])
    teachers = pd.DataFrame(
        {
            "teacher_id": [f"T{i + 1:07d}" for i in range(n_teachers)],
            "school_id": schools["school_id"].to_numpy()[rng.integers(0, n_schools, n_teachers)],
            "stage": stage,
            "subject": subject,
            "years_of_service": rng.integers(1, 30, n_teachers),
            "research_group": [f"{s}{j}组" for s, j in zip(stage, subject, strict=True)],
        }
    )
    schools["n_teachers"] = (
        teachers["school_id"]
        .value_counts()
        .reindex(schools["school_id"])
        .fillna(0)
        .astype(int)
        .to_numpy()
    )
    truth = (rng.random((n_teachers, len(codes))) < 0.45).astype(np.int8)
    weights = catalog.point_weight_matrix(codes)
    items = list(catalog.items)
    school_env = schools.set_index("school_id")["environment"].map(ENVIRONMENTS.index)
    rows = []
    start = pd.Timestamp("2024-03-01")
    for t in range(n_teachers):
        env = school_env[teachers.at[t, "school_id"]]
        fit = np.array(
            [i.fits(stage[t], subject[t], ENVIRONMENTS[env]) for i in items], dtype=float
        )
        own_subject = np.array([subject[t] in i.subjects for i in items], dtype=float)
        gain = weights @ (1 - truth[t])
        logits = (
            3.0 * gain + 1.0 * own_subject - 6.0 * (1 - fit) + 0.8 * rng.gumbel(size=len(items))
        )
        chosen = np.argsort(-logits)[: rng.integers(4, 9)]
        when = start + pd.to_timedelta(np.sort(rng.integers(0, 200, len(chosen))), unit="D")
        teacher_id = teachers.at[t, "teacher_id"]
        for col, ts in zip(chosen, when, strict=True):
            item_id = items[col].item_id
            rows.append((teacher_id, item_id, "enrol", np.nan, ts))
            rows.append(
                (
                    teacher_id,
                    item_id,
                    "progress",
                    float(rng.uniform(0.3, 1)),
                    ts + pd.Timedelta(hours=5),
                )
            )
            if rng.random() < 0.7:
                rows.append((teacher_id, item_id, "complete", np.nan, ts + pd.Timedelta(days=2)))
            if rng.random() < 0.3:
                rows.append(
                    (
                        teacher_id,
                        item_id,
                        "rate",
                        float(rng.integers(3, 6)),
                        ts + pd.Timedelta(days=3),
                    )
                )
    events = pd.DataFrame(rows, columns=["teacher_id", "item_id", "event", "value", "timestamp"])
    events.insert(0, "event_id", [f"E{i:09d}" for i in range(len(events))])
    noisy = np.clip(0.15 + 0.7 * truth + rng.normal(0, 0.1, truth.shape), 0.01, 0.99)
    mastery = pd.DataFrame(
        {
            "teacher_id": np.repeat(teachers["teacher_id"].to_numpy(), len(codes)),
            "point": np.tile(codes, n_teachers),
            "mastery_probability": noisy.ravel(),
            "sd": 0.1,
            "evidence_count": 5,
            "insufficient_evidence": False,
        }
    )
    truth_frame = pd.DataFrame(truth, columns=codes).assign(
        teacher_id=teachers["teacher_id"].to_numpy()
    )
    grades = pd.DataFrame(
        {
            "teacher_id": pd.Series([], dtype=str),
            "point": pd.Series([], dtype=str),
            "grade": pd.Series([], dtype=str),
            "assessed_at": pd.Series([], dtype="datetime64[us]"),
        }
    )
    return SmallProvince(schools, teachers, events, mastery, truth_frame, grades)


@pytest.fixture(scope="session")
def small_province() -> SmallProvince:
    return make_small_province()


@pytest.fixture(scope="session")
def fitted_hybrid(small_province: SmallProvince):
    from recommender.ranking import HybridRecommender

    return HybridRecommender(factors=8, iterations=5, random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )
