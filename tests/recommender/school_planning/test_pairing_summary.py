"""结对帮扶 from per-school summaries equals the teacher-level computation, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competency_model.framework import default_framework
from recommender.school_planning import pairing
from recommender.school_planning.pairing import (
    mentor_teachers,
    mentors_from_summaries,
    pair_school_means,
    pair_schools,
)
from recommender.school_planning.pairing_summary import summarise_schools


def _province(seed: int, n_schools: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Teacher mastery with ties (one decimal), missing values, tiny schools (one or two
    teachers, so a pair may run out of mentors) and a few cities and environments."""
    rng = np.random.default_rng(seed)
    codes = list(default_framework().codes)
    school_ids = [f"S{n:06d}" for n in range(1, n_schools + 1)]
    schools = pd.DataFrame(
        {
            "school_id": school_ids,
            "city": rng.choice(["南京", "徐州", "苏州"], n_schools),
            "urban_rural": rng.choice(["urban", "rural"], n_schools),
            "environment": rng.choice(["multimedia", "blended", "smart"], n_schools),
        }
    )
    rows = []
    teacher_ids = iter(rng.permutation(10 * n_schools))  # ids not in school order
    for school_id in school_ids:
        for _ in range(int(rng.choice([1, 2, 3, 5, 8]))):
            values = np.round(rng.uniform(0.1, 0.95, len(codes)), 1)
            values[rng.random(len(codes)) < 0.15] = np.nan
            rows.append(
                {
                    "teacher_id": f"T{next(teacher_ids):07d}",
                    "school_id": school_id,
                    "research_group": rng.choice(["小学数学组", "小学语文组", None]),
                    **dict(zip(codes, values, strict=True)),
                }
            )
    mastery = pd.DataFrame(rows).set_index("teacher_id").sort_index()
    mastery["research_group"] = mastery["research_group"].fillna("")
    return mastery, schools


def _summary_path(mastery, schools, framework, **options):  # type: ignore[no-untyped-def]
    codes = list(framework.codes)
    summaries = summarise_schools(mastery, codes)
    means = pd.DataFrame(
        [[np.nan if v is None else v for v in s.means] for s in summaries.values()],
        index=pd.Index(list(summaries), name="school_id"),
        columns=codes,
        dtype=float,
    )
    pairs = pair_school_means(means, schools, framework, **options)
    return pairs, mentors_from_summaries(pairs, summaries, codes)


@pytest.mark.parametrize(
    ("seed", "options"),
    [
        (0, {}),
        (1, {"same_city": False}),
        (2, {"weak_share": 0.4, "capacity": 1}),
        (3, {"weak_share": 0.5, "capacity": 3}),
    ],
)
def test_summary_path_reproduces_teacher_level_pairs_and_mentors(
    framework, seed: int, options: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    mastery, schools = _province(seed, 40)
    expected_pairs = pair_schools(mastery, schools, framework, **options)
    expected_mentors = mentor_teachers(expected_pairs, mastery)
    # Small blocks, so the blocked score matrix is really filled in several parts.
    monkeypatch.setattr(pairing, "LEAD_BLOCK_BYTES", 3 * 40 * 30 * 8)
    pairs, mentors = _summary_path(mastery, schools, framework, **options)
    assert len(expected_pairs) > 3
    pd.testing.assert_frame_equal(
        pairs.drop(columns="complementarity"), expected_pairs.drop(columns="complementarity")
    )
    np.testing.assert_allclose(
        pairs["complementarity"], expected_pairs["complementarity"], rtol=0, atol=1e-9
    )
    assert len(expected_mentors) > 3
    pd.testing.assert_frame_equal(mentors, expected_mentors)


def test_summary_keeps_three_best_per_point_in_mentor_order(framework) -> None:
    codes = list(framework.codes)
    mastery = pd.DataFrame(
        {
            "school_id": ["S1"] * 5,
            "research_group": ["a", None, "c", "d", "e"],
            **{c: [0.5, np.nan, 0.9, 0.5, 0.2] for c in codes},
        },
        index=pd.Index(["T5", "T1", "T3", "T2", "T4"], name="teacher_id"),
    )
    summary = summarise_schools(mastery, codes)["S1"]
    assert summary.n_teachers == 5
    assert summary.means[0] == pytest.approx((0.5 + 0.9 + 0.5 + 0.2) / 4)
    assert summary.top[0] == [("T3", "c", 0.9), ("T2", "d", 0.5), ("T5", "a", 0.5)]


def test_a_point_nobody_has_is_null_with_missing_teachers_ranked_last(framework) -> None:
    codes = list(framework.codes)
    mastery = pd.DataFrame(
        {"school_id": ["S1", "S1"], **{c: [np.nan, np.nan] for c in codes}},
        index=pd.Index(["T2", "T1"], name="teacher_id"),
    )
    summary = summarise_schools(mastery, codes)["S1"]
    assert summary.means == [None] * len(codes)
    assert summary.top[0] == [("T1", "", None), ("T2", "", None)]
