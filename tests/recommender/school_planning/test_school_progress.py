"""A school's progress by teacher and 教研组, against a case computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.school_planning.school_progress import school_progress


def _events(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["teacher_id", "item_id", "event", "timestamp"])
    frame["event_id"] = [f"E{i}" for i in range(len(frame))]
    frame["value"] = np.nan
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


@pytest.fixture()
def roster() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "teacher_id": ["T1", "T2", "T3"],
            "school_id": ["S1"] * 3,
            "stage": ["小学"] * 3,
            "subject": ["数学", "数学", "语文"],
            "research_group": ["数学组", "数学组", ""],
        }
    )


@pytest.fixture()
def progress(roster, tiny_catalog, jiangsu):  # type: ignore[no-untyped-def]
    events = _events(
        [
            ("T1", "CRS-0001", "complete", "2021-01-05"),  # 2 h online video
            ("T1", "TSK-0001", "complete", "2021-03-01"),  # 4 h practice
            ("T2", "TSK-0001", "progress", "2021-01-12"),  # not completed: no hours
        ]
    )
    grades = pd.DataFrame(
        {
            "teacher_id": ["T1", "T1", "T1"],
            "point": ["A1", "A2", "A1"],
            "grade": ["不合格", "合格", "优秀"],  # A1's latest grade is 优秀
            "assessed_at": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-02-01"]),
        }
    )
    return school_progress("S1", roster, events, grades, tiny_catalog, jiangsu)


def test_teacher_rows_by_hand(progress) -> None:  # type: ignore[no-untyped-def]
    row = progress.teachers.set_index("teacher_id").loc["T1"]
    assert (row["hours"], row["practice_hours"], row["online_hours"]) == (6.0, 4.0, 2.0)
    assert row["practice_share"] == pytest.approx(4 / 6)
    assert (row["points_assessed"], row["points_passed"], row["points_failed"]) == (2, 2, 0)
    assert bool(row["compliant"]) is False and row["hours_missing"] == 44.0


def test_every_teacher_behind_gets_the_rules_missed_in_words(progress, jiangsu) -> None:  # type: ignore[no-untyped-def]
    behind = progress.behind.set_index("teacher_id")
    assert list(behind.index) == ["T2", "T3", "T1"]  # most hours missing first, then id
    assert behind.loc["T1", "reasons_zh"] == (
        f"总学时 6/{jiangsu.total_hours:g}；实践学时 4/{jiangsu.min_practice_hours:g}；"
        f"线上学时 2/{jiangsu.min_online_hours:g}"
    )
    assert behind.loc["T1", "reasons_en"].startswith("total hours 6 of ")
    assert "实践占比 0%" in behind.loc["T2", "reasons_zh"]


def test_groups_aggregate_their_teachers(progress) -> None:  # type: ignore[no-untyped-def]
    groups = progress.groups.set_index("research_group")
    assert groups.loc["数学组", "n_teachers"] == 2
    assert groups.loc["数学组", "mean_hours"] == 3.0
    assert groups.loc["数学组", "n_assessed"] == 1
    # A teacher without a 教研组 is shown as such, not dropped.
    assert groups.loc["（未填写教研组）", "n_teachers"] == 1
    assert groups["n_teachers"].sum() == 3


def test_a_compliant_teacher_has_no_reason(roster, tiny_catalog) -> None:  # type: ignore[no-untyped-def]
    from competency_model.policy import Policy, load_policy

    lenient: Policy = load_policy("jiangsu").model_copy(
        update={
            "total_hours": 5.0,
            "min_practice_hours": 4.0,
            "min_practice_share": 0.5,
            "min_online_hours": 1.0,
        }
    )
    events = _events(
        [("T1", "CRS-0001", "complete", "2021-01-05"), ("T1", "TSK-0001", "complete", "2021-01-06")]
    )
    empty = pd.DataFrame(columns=["teacher_id", "point", "grade", "assessed_at"])
    result = school_progress("S1", roster, events, empty, tiny_catalog, lenient)
    row = result.teachers.set_index("teacher_id").loc["T1"]
    assert bool(row["compliant"]) and row["reasons_zh"] == "" and row["reasons_en"] == ""
    assert "T1" not in set(result.behind["teacher_id"])
