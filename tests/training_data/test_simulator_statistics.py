"""Statistical sanity of the simulated province: the ground truth behaves as documented.

One province of 2,000 teachers is simulated for the module; every check compares groups that
the generative model says must differ, with margins far outside sampling noise at this size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competency_model.catalog import default_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import default_item_bank
from competency_model.province import Province
from training_data.simulator import SimulatorConfig, prepare, simulate_province

CODES = default_framework().codes
C_POINTS = [c for c in CODES if default_framework().point(c).environment == "smart"]


@pytest.fixture(scope="module")
def province() -> Province:
    return simulate_province(2000, 24, seed=20201)


def _long_mastery(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame.melt(id_vars="teacher_id", var_name="point", value_name=name)


def test_rural_schools_master_fewer_c_points_than_urban_smart_schools(province: Province) -> None:
    teachers = province.teachers.merge(province.schools, on="school_id")
    c_mastery = province.truth_mastery_initial.set_index("teacher_id")[C_POINTS].mean(axis=1)
    teachers["c_mastery"] = teachers["teacher_id"].map(c_mastery)
    rural = teachers.loc[teachers["urban_rural"] == "rural", "c_mastery"].mean()
    urban_smart = teachers.loc[
        (teachers["urban_rural"] == "urban") & (teachers["environment"] == "smart"), "c_mastery"
    ].mean()
    assert rural + 0.1 < urban_smart


def test_c_points_are_rarer_than_a_points(province: Province) -> None:
    initial = province.truth_mastery_initial.set_index("teacher_id")
    a_points = [c for c in CODES if c.startswith("A")]
    assert initial[C_POINTS].to_numpy().mean() + 0.2 < initial[a_points].to_numpy().mean()


def test_graph_neighbours_are_more_correlated_than_unrelated_points(province: Province) -> None:
    mastery = province.truth_mastery_initial.set_index("teacher_id")[CODES].to_numpy(float)
    corr = np.corrcoef(mastery.T)
    from competency_model.graph import CompetencyGraph

    adjacency = CompetencyGraph(default_framework()).adjacency_matrix() > 0
    off_diagonal = ~np.eye(len(CODES), dtype=bool)
    assert corr[adjacency].mean() > corr[~adjacency & off_diagonal].mean() + 0.05


def test_completing_a_course_on_a_point_raises_mastery(province: Province) -> None:
    catalog = default_catalog()
    primary = {item.item_id: item.primary_point for item in catalog.items}
    done = province.events[province.events["event"] == "complete"]
    learned = set(zip(done["teacher_id"], done["item_id"].map(primary), strict=True))
    pairs = _long_mastery(province.truth_mastery_initial, "before").merge(
        _long_mastery(province.truth_mastery, "after"), on=["teacher_id", "point"]
    )
    pairs = pairs[pairs["before"] == 0]
    studied = [(t, p) in learned for t, p in zip(pairs["teacher_id"], pairs["point"], strict=True)]
    pairs = pairs.assign(studied=studied)
    rate = pairs.groupby("studied")["after"].mean()
    assert rate[True] > rate[False] + 0.1


def test_scenario_items_are_answered_better_by_masters(province: Province) -> None:
    bank = default_item_bank()
    mastery = province.truth_mastery_initial.set_index("teacher_id")
    responses = province.responses.set_index("item_id")
    checked = 0
    for item in bank.items:
        if item.kind != "scenario":
            continue
        answers = responses.loc[[item.item_id]]
        masters = mastery.loc[answers["teacher_id"], item.points].all(axis=1).to_numpy()
        if masters.sum() < 20 or (~masters).sum() < 20:
            continue
        correct = answers["response"].to_numpy()
        assert correct[masters].mean() > correct[~masters].mean() + 0.2, item.item_id
        checked += 1
    assert checked >= 50


def test_self_ratings_rise_with_mastery_but_are_overconfident(province: Province) -> None:
    bank = default_item_bank()
    single = {i.item_id: i.points[0] for i in bank.items if i.kind == "self_rating"}
    scale = {i.item_id: i.scale_max for i in bank.items}
    ratings = province.responses[province.responses["item_id"].isin(single)].copy()
    ratings["point"] = ratings["item_id"].map(single)
    ratings["share"] = (ratings["response"] - 1) / (ratings["item_id"].map(scale) - 1)
    ratings = ratings.merge(
        _long_mastery(province.truth_mastery_initial, "mastered"), on=["teacher_id", "point"]
    )
    by_mastery = ratings.groupby("mastered")["share"].mean()
    assert by_mastery[1] > by_mastery[0] + 0.1
    # over-confidence: non-masters still rate themselves above the scale's floor on average
    assert by_mastery[0] > 0.25


def test_grades_are_monotone_in_mastery(province: Province) -> None:
    grades = province.grades.merge(
        _long_mastery(province.truth_mastery, "mastered"), on=["teacher_id", "point"]
    )
    share = pd.crosstab(grades["mastered"], grades["grade"], normalize="index")
    assert share.loc[1, "优秀"] > share.loc[0, "优秀"] + 0.2
    assert share.loc[1, "不合格"] < share.loc[0, "不合格"]
    score = grades["grade"].map({"不合格": 0, "合格": 1, "优秀": 2})
    assert score[grades["mastered"] == 1].mean() > score[grades["mastered"] == 0].mean()


def test_course_choices_fit_stage_and_selected_points(province: Province) -> None:
    catalog = default_catalog()
    enrol = province.events[
        (province.events["event"] == "enrol") & province.events["item_id"].str.startswith("CRS")
    ]
    enrol = enrol.merge(province.teachers[["teacher_id", "stage"]], on="teacher_id")
    stage_fit = [
        s in catalog.get(i).stages for i, s in zip(enrol["item_id"], enrol["stage"], strict=True)
    ]
    assert np.mean(stage_fit) > 0.9
    selected = province.truth_preferences.set_index("teacher_id")["selected_points"].str.split(";")
    on_selected = [
        bool(set(catalog.get(i).points) & set(selected[t]))
        for t, i in zip(enrol["teacher_id"], enrol["item_id"], strict=True)
    ]
    # most courses serve the teacher's chosen points; the rest follow gaps, peers and popularity
    assert 0.4 < np.mean(on_selected) < 0.98


def _within_group_overlap(province: Province) -> float:
    """Mean Jaccard overlap of course sets between colleagues of the same school and 教研组."""
    enrol = province.events[province.events["event"] == "enrol"]
    sets = enrol.groupby("teacher_id")["item_id"].agg(frozenset)
    info = province.teachers.set_index("teacher_id").loc[sets.index]
    overlaps = []
    for _, members in sets.groupby((info["school_id"] + info["research_group"]).to_numpy()):
        group = list(members)
        overlaps += [len(a & b) / len(a | b) for n, a in enumerate(group) for b in group[n + 1 :]]
    return float(np.mean(overlaps))


def test_colleagues_choices_make_a_research_group_choose_alike(province: Province) -> None:
    # same seed, peer influence switched off: colleagues then overlap only through shared
    # school points, stage, subject and popularity
    alone = simulate_province(
        2000, 24, seed=20201, config=SimulatorConfig(weight_peer_group=0.0, weight_peer_school=0.0)
    )
    assert _within_group_overlap(province) > _within_group_overlap(alone) + 0.02


def test_dropout_exists_and_completion_is_common(province: Province) -> None:
    counts = province.events["event"].value_counts()
    completion = counts["complete"] / counts["enrol"]
    assert 0.5 < completion < 0.95


def test_better_courses_get_better_ratings_and_teach_more(province: Province) -> None:
    arrays = prepare(2000, 24, seed=20201).catalog  # the items simulated teachers choose from
    quality = pd.Series(arrays.quality, index=arrays.item_ids)
    rated = province.events[province.events["event"] == "rate"]
    assert np.corrcoef(rated["item_id"].map(quality), rated["value"])[0, 1] > 0.2
    primary = {item.item_id: item.primary_point for item in default_catalog().items}
    done = province.events[province.events["event"] == "complete"]
    done = done.assign(point=done["item_id"].map(primary), quality=done["item_id"].map(quality))
    # teacher-points learned through exactly one completed item, initially not mastered
    one = done.groupby(["teacher_id", "point"]).filter(lambda g: len(g) == 1)
    before = _long_mastery(province.truth_mastery_initial, "before")
    after = _long_mastery(province.truth_mastery, "after")
    one = one.merge(before, on=["teacher_id", "point"]).merge(after, on=["teacher_id", "point"])
    one = one[one["before"] == 0]
    good = one["quality"] > one["quality"].median()
    assert one.loc[good, "after"].mean() > one.loc[~good, "after"].mean()
