"""The hybrid recommender: lists, filters, explanations, cold start, fold-in, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_model.errors import ModelError, NotFoundError
from recommender.artifacts import METADATA_NAME
from recommender.bundle import load_recommender, save_recommender
from recommender.ranking import HybridRecommender

PROFILE = {
    "school_id": "S000003",
    "stage": "小学",
    "subject": "数学",
    "research_group": "小学数学组",
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    teacher=st.integers(0, 149),
    k=st.integers(1, 30),
    kind=st.sampled_from(["course", "task"]),
    personalized=st.booleans(),
)
def test_top_k_has_no_duplicates_and_finite_scores(fitted_hybrid, teacher, k, kind, personalized):
    recs = fitted_hybrid.recommend(f"T{teacher + 1:07d}", k=k, kind=kind, personalized=personalized)
    ids = [r.item_id for r in recs]
    assert 0 < len(ids) <= k and len(set(ids)) == len(ids)
    assert all(np.isfinite(r.score) for r in recs)
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    teacher=st.integers(0, 149),
    k=st.integers(1, 15),
    kind=st.sampled_from(["course", "task"]),
    personalized=st.booleans(),
    depth=st.sampled_from([None, 5, 20, 40]),
    drop=st.lists(st.integers(0, 39), max_size=12, unique=True),
)
def test_a_kept_ranking_minus_completed_items_equals_ranking_again(
    fitted_hybrid, teacher, k, kind, personalized, depth, drop
):
    """What the service's ranking cache relies on: exclusion never changes scores or reasons."""
    teacher_id = f"T{teacher + 1:07d}"
    full = fitted_hybrid.ranked(teacher_id, kind, personalized)
    done = [full.item_ids[i] for i in drop if i < len(full.item_ids)]
    fresh = fitted_hybrid.recommend(teacher_id, k, kind, personalized, exclude=done)
    kept = fitted_hybrid.ranked(teacher_id, kind, personalized, depth=depth)
    positions = kept.positions(k, done)
    if positions is None:  # cut short: the caller must rank again
        assert depth is not None and depth - sum(i < depth for i in drop) < k
        with pytest.raises(ValueError, match="rank again"):
            kept.top(k, done)
        return
    assert [r.model_dump() for r in kept.top(k, done)] == [r.model_dump() for r in fresh]


@pytest.mark.parametrize("kind", ["course", "task"])
def test_every_item_is_explained_in_both_languages(fitted_hybrid, kind):
    for teacher in ("T0000001", "T0000042"):
        for rec in fitted_hybrid.recommend(teacher, k=10, kind=kind):
            assert rec.reasons_zh and rec.reasons_en and len(rec.reasons_zh) == len(rec.reasons_en)
            assert any("掌握概率" in r for r in rec.reasons_zh)
            assert any("mastery probability" in r for r in rec.reasons_en)


def test_kind_task_returns_practice_tasks(fitted_hybrid):
    assert all(
        r.item_id.startswith("TSK-") for r in fitted_hybrid.recommend("T0000001", kind="task")
    )


def test_hard_filters_hold_in_recommendations(fitted_hybrid, small_province):
    teacher = "T0000007"
    row = fitted_hybrid.row_of(teacher)
    taken = set(
        small_province.events.loc[small_province.events["teacher_id"] == teacher, "item_id"]
    )
    school_rank = fitted_hybrid.teachers_.school_environment_rank[
        fitted_hybrid.teachers_.school_row[row]
    ]
    recs = fitted_hybrid.recommend(teacher, k=30, exclude=["CRS-0001"])
    items = {i: n for n, i in enumerate(fitted_hybrid.items_.item_ids)}
    open_points = (
        fitted_hybrid.mastery_[row] < fitted_hybrid.mastered_threshold
    ) | fitted_hybrid.active_points(np.array([row]))[0]
    for rec in recs:
        col = items[rec.item_id]
        assert rec.item_id not in taken and rec.item_id != "CRS-0001"
        assert fitted_hybrid.items_.environment_rank[col] <= school_rank
        assert any(open_points[fitted_hybrid.points_.index([p])[0]] for p in rec.points)


def test_strict_mastered_filter_drops_items_on_mastered_points_only(small_province):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework

    model = HybridRecommender(
        factors=8, iterations=5, keep_active_points=False, random_state=0
    ).fit(small_province, small_province.mastery, load_catalog(), default_framework())
    row = model.row_of("T0000011")
    for rec in model.recommend("T0000011", k=20):
        columns = model.points_.index(list(rec.points))
        assert (model.mastery_[row, columns] < model.mastered_threshold).any()


def test_only_points_restricts_the_list(fitted_hybrid):
    recs = fitted_hybrid.recommend("T0000003", k=10, only_points=["A5", "A6"])
    assert recs and all({"A5", "A6"} & set(r.points) for r in recs)


def _completed(province, teacher_id: str) -> set[str]:
    events = province.events
    done = events[(events["teacher_id"] == teacher_id) & (events["event"] == "complete")]
    return set(done["item_id"])


def test_non_personalised_list_ignores_history(fitted_hybrid, small_province):
    """Two teachers of one school get the school's list; only their own completions leave it."""
    teachers = small_province.teachers
    school = teachers.groupby("school_id")["teacher_id"].apply(list)
    pair = next(ids for ids in school if len(ids) >= 2)[:2]
    done = _completed(small_province, pair[0]) | _completed(small_province, pair[1])
    lists = [
        [r.item_id for r in fitted_hybrid.recommend(t, k=40, personalized=False)] for t in pair
    ]
    assert [i for i in lists[0] if i not in done][:10] == [i for i in lists[1] if i not in done][
        :10
    ]


@pytest.mark.parametrize("personalized", [True, False])
@pytest.mark.parametrize("kind", ["course", "task", "all"])
def test_no_list_repeats_what_the_teacher_completed(
    fitted_hybrid, small_province, kind, personalized
):
    for teacher in small_province.teachers["teacher_id"].iloc[:40]:
        done = _completed(small_province, teacher)
        recs = fitted_hybrid.recommend(teacher, k=30, kind=kind, personalized=personalized)
        assert recs and not done & {r.item_id for r in recs}


def test_kind_all_ranks_courses_and_tasks_in_one_list(fitted_hybrid):
    ranking = fitted_hybrid.ranked("T0000001", kind="all")
    prefixes = {item_id[:3] for item_id in ranking.item_ids}
    assert prefixes == {"CRS", "TSK"}
    assert list(ranking.scores) == sorted(ranking.scores, reverse=True)
    courses = [i for i in ranking.item_ids if i.startswith("CRS")]
    assert courses == fitted_hybrid.ranked("T0000001", kind="course").item_ids


@pytest.mark.parametrize("kind", ["course", "task"])
def test_school_popular_list_is_the_known_teachers_non_personalised_list(
    fitted_hybrid, small_province, kind
):
    teacher = small_province.teachers.iloc[3]
    known = fitted_hybrid.recommend(teacher["teacher_id"], k=8, kind=kind, personalized=False)
    completed = sorted(_completed(small_province, teacher["teacher_id"]))
    popular = fitted_hybrid.recommend_popular(
        teacher["school_id"], k=8, kind=kind, exclude=completed
    )
    assert [r.model_dump() for r in popular] == [r.model_dump() for r in known]
    done = [known[0].item_id]
    assert known[0].item_id not in {
        r.item_id for r in fitted_hybrid.recommend_popular(teacher["school_id"], 8, kind, done)
    }
    with pytest.raises(NotFoundError, match="S999999"):
        fitted_hybrid.recommend_popular("S999999")


def test_cold_start_returns_explained_items_that_follow_the_questionnaire(fitted_hybrid):
    recs = fitted_hybrid.recommend_for_profile(PROFILE, {"A5": 0.05, "A6": 0.05}, k=10)
    assert len(recs) == 10 and all(r.reasons_zh and r.reasons_en for r in recs)
    masters = fitted_hybrid.recommend_for_profile(PROFILE, {"A5": 0.99, "A6": 0.99}, k=10)
    share_gap = sum(bool({"A5", "A6"} & set(r.points)) for r in recs)
    share_master = sum(bool({"A5", "A6"} & set(r.points)) for r in masters)
    assert share_gap > share_master


def test_cold_start_for_unknown_school_raises(fitted_hybrid):
    with pytest.raises(NotFoundError, match="S999999"):
        fitted_hybrid.recommend_for_profile({**PROFILE, "school_id": "S999999"}, {}, k=5)


def test_unknown_teacher_raises_not_found(fitted_hybrid):
    with pytest.raises(NotFoundError, match="T9999999"):
        fitted_hybrid.recommend("T9999999")


def test_fold_in_changes_recommendations(small_province):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework

    model = HybridRecommender(factors=8, iterations=5, random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )
    before = [r.item_id for r in model.recommend("T0000005", k=10)]
    new = pd.DataFrame(
        {
            "item_id": before[:3],
            "event": "complete",
            "value": np.nan,
            "timestamp": pd.Timestamp("2025-01-01"),
            "event_id": ["N1", "N2", "N3"],
        }
    )
    model.fold_in("T0000005", new)
    after = [r.item_id for r in model.recommend("T0000005", k=10)]
    assert not set(before[:3]) & set(after)
    assert after != before


def test_fold_in_with_new_mastery_updates_expected_gain(small_province):
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework

    model = HybridRecommender(factors=8, iterations=5, random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )
    empty = pd.DataFrame({"item_id": [], "event": [], "value": [], "timestamp": []})
    model.fold_in("T0000020", empty, mastery=dict.fromkeys(model.points_.codes.tolist(), 0.99))
    recs = model.recommend("T0000020", k=5)
    assert all(r.signals["expected_gain"] < 0.05 for r in recs)


def test_save_load_round_trip_and_tamper(fitted_hybrid, tmp_path):
    directory = save_recommender(fitted_hybrid, tmp_path / "model", {"data_hash": "x"})
    loaded = load_recommender(directory)
    assert loaded.model_version != "unsaved"
    original = fitted_hybrid.recommend("T0000010", k=10)
    again = loaded.recommend("T0000010", k=10)
    assert [r.item_id for r in again] == [r.item_id for r in original]
    np.testing.assert_allclose([r.score for r in again], [r.score for r in original], rtol=1e-6)
    target = directory / "ranker.npz"
    content = bytearray(target.read_bytes())
    content[len(content) // 2] ^= 0xFF
    target.write_bytes(bytes(content))
    with pytest.raises(ModelError):
        load_recommender(directory)
    assert (directory / METADATA_NAME).exists()
