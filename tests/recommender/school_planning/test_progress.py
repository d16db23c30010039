"""Progress figures against small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competency_model.errors import ImportRowError
from recommender.school_planning.progress import (
    assessment_summary,
    compliance,
    cycle_starts_from_rollout,
    hours_completed,
    rollout_status,
    teachers_at_risk,
)


def _events(rows):
    frame = pd.DataFrame(rows, columns=["teacher_id", "item_id", "event", "timestamp"])
    frame["event_id"] = [f"E{i}" for i in range(len(frame))]
    frame["value"] = np.nan
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


@pytest.fixture()
def events():
    return _events(
        [
            ("T1", "CRS-0001", "enrol", "2021-01-01"),
            ("T1", "CRS-0001", "complete", "2021-01-05"),  # 2 h online_video
            ("T1", "CRS-0001", "complete", "2021-01-06"),  # duplicate: counted once
            ("T1", "CRS-0002", "complete", "2021-02-01"),  # 3 h live (not online under Jiangsu)
            ("T1", "TSK-0001", "complete", "2021-03-01"),  # 4 h practice
            ("T2", "CRS-0003", "complete", "2021-01-10"),  # 1.5 h online_video
            ("T2", "CRS-9999", "complete", "2021-01-11"),  # not in the catalog
            ("T2", "TSK-0001", "progress", "2021-01-12"),  # not completed: no hours
        ]
    )


def test_hours_by_hand(events, tiny_catalog, jiangsu) -> None:
    hours = hours_completed(events, tiny_catalog, jiangsu)
    assert hours.loc["T1", "hours"] == 9.0
    assert hours.loc["T1", "practice_hours"] == 4.0
    assert hours.loc["T1", "online_hours"] == 2.0  # Jiangsu counts only online_video
    assert hours.loc["T1", "n_completed"] == 3
    assert hours.loc["T2", "hours"] == 1.5
    assert hours.loc["T2", "unknown_items"] == 1


def test_hours_respect_as_of_and_list_idle_teachers(events, tiny_catalog, jiangsu) -> None:
    teachers = pd.DataFrame({"teacher_id": ["T1", "T2", "T3"]})
    hours = hours_completed(events, tiny_catalog, jiangsu, teachers, as_of="2021-01-31")
    assert hours["hours"].to_dict() == {"T1": 2.0, "T2": 1.5, "T3": 0.0}


def test_compliance_by_hand(jiangsu) -> None:
    hours = pd.DataFrame(
        {
            "hours": [50.0, 50.0, 60.0],
            "practice_hours": [25.0, 20.0, 30.0],
            "online_hours": [25.0, 30.0, 24.0],
        },
        index=pd.Index(["A", "B", "C"], name="teacher_id"),
    )
    result = compliance(hours, jiangsu)
    assert result["compliant"].tolist() == [True, False, False]
    assert result["meets_practice"].tolist() == [True, False, True]
    assert result["meets_online"].tolist() == [True, True, False]


def test_assessment_latest_grade_wins() -> None:
    grades = pd.DataFrame(
        {
            "teacher_id": ["T1", "T1", "T2", "T3"],
            "point": ["A1", "A1", "A1", "A1"],
            "grade": ["不合格", "合格", "优秀", "不合格"],
            "assessed_at": pd.to_datetime(["2021-01-01", "2021-06-01", "2021-06-01", "2021-06-01"]),
        }
    )
    table = assessment_summary(grades, codes=["A1", "A2"])
    assert table.loc["A1", ["n_assessed", "优秀", "合格", "不合格"]].tolist() == [3, 1, 1, 1]
    assert table.loc["A1", "pass_rate"] == pytest.approx(2 / 3)
    assert table.loc["A2", "n_assessed"] == 0


def test_unknown_grade_is_refused() -> None:
    grades = pd.DataFrame(
        {
            "teacher_id": ["T1"],
            "point": ["A1"],
            "grade": ["良好"],
            "assessed_at": pd.to_datetime(["2021-01-01"]),
        }
    )
    with pytest.raises(ImportRowError, match="良好"):
        assessment_summary(grades)


def test_rollout_against_jiangsu_schedule(jiangsu) -> None:
    schools = pd.DataFrame(
        {"school_id": [f"S{i}" for i in range(10)], "rollout_batch": [1, 1, 1, 2, 2, 2, 2, 3, 3, 3]}
    )
    teachers = pd.DataFrame({"teacher_id": ["T1", "T2"], "school_id": ["S0", "S3"]})
    events = _events(
        [("T1", "CRS-0001", "enrol", "2020-10-01"), ("T2", "CRS-0001", "enrol", "2021-10-01")]
    )
    table = rollout_status(schools, jiangsu, events, teachers, as_of="2021-06-30").set_index(
        "batch"
    )
    assert table["planned_share"].tolist() == [0.2, 0.4, 0.4]
    assert table["actual_share"].tolist() == [0.3, 0.4, 0.3]
    assert table["deviation"].round(6).tolist() == [0.1, 0.0, -0.1]
    assert table.loc[1, "started_share"] == pytest.approx(1 / 3)  # S0 of S0–S2
    assert table.loc[2, "started_share"] == 0.0  # T2 enrols after as_of


def test_teachers_at_risk_by_hand(jiangsu) -> None:
    """Jiangsu cycle = 5 years; halfway through, 20 h projects to 40 h < 50 (at risk)."""
    hours = pd.DataFrame({"hours": [20.0, 30.0, 55.0]}, index=["A", "B", "C"])
    start = pd.Timestamp("2020-01-01")
    halfway = start + pd.Timedelta(days=5 * 365.25 / 2)
    result = teachers_at_risk(hours, jiangsu, start, halfway)
    assert result["elapsed"].round(6).tolist() == [0.5, 0.5, 0.5]
    assert result["projected"].round(6).tolist() == [40.0, 60.0, 110.0]
    assert result["at_risk"].tolist() == [True, False, False]


def test_cycle_starts_follow_the_batch_year(jiangsu) -> None:
    schools = pd.DataFrame({"school_id": ["S1", "S2"], "rollout_batch": [1, 3]})
    teachers = pd.DataFrame({"teacher_id": ["T1", "T2"], "school_id": ["S1", "S2"]})
    starts = cycle_starts_from_rollout(teachers, schools, jiangsu)
    assert starts.to_dict() == {"T1": pd.Timestamp("2020-09-01"), "T2": pd.Timestamp("2022-09-01")}
