"""Chongqing §三(一): a teacher whose five-year cycle ended short is flagged (cycle_ended_short)."""

from __future__ import annotations

import pandas as pd

from competency_model.catalog import Catalog, CatalogItem
from competency_model.policy import load_policy
from recommender.school_planning.progress import cycle_ended_short, hours_completed
from recommender.school_planning.school_progress import school_progress


def _catalog() -> Catalog:
    return Catalog(
        [
            CatalogItem(
                item_id=f"TSK-{n:04d}",
                title_zh=f"实践{n}",
                points={"A1": 1.0},
                hours=5.0,
                kind="practice",
                stages=["小学"],
                subjects=["通用"],
                environment="multimedia",
                level="入门",
                artifacts=["教学设计"],
            )
            for n in range(1, 11)
        ]
        + [
            CatalogItem(
                item_id=f"CRS-{n:04d}",
                title_zh=f"课程{n}",
                points={"A1": 1.0},
                hours=5.0,
                kind="online_video",
                stages=["小学"],
                subjects=["通用"],
                environment="multimedia",
                level="入门",
            )
            for n in range(1, 11)
        ],
        name="cycle",
    )


def _events(teacher: str, items: list[str]) -> list[dict]:
    return [
        {
            "teacher_id": teacher,
            "item_id": i,
            "event": "complete",
            "timestamp": pd.Timestamp("2021-03-01"),
        }
        for i in items
    ]


TEACHERS = pd.DataFrame(
    {
        "teacher_id": ["T1", "T2", "T3"],
        "school_id": "S1",
        "research_group": "小学数学组",
        "stage": "小学",
        "subject": "数学",
    }
)
#: T1 complete (25 practice + 25 online), T2 short (20 h), T3 short but started later
EVENTS = pd.DataFrame(
    _events("T1", [f"TSK-{n:04d}" for n in range(1, 6)] + [f"CRS-{n:04d}" for n in range(1, 6)])
    + _events("T2", ["TSK-0001", "TSK-0002", "CRS-0001", "CRS-0002"])
    + _events("T3", ["TSK-0001"])
)
STARTS = pd.Series(
    pd.to_datetime(["2020-09-01", "2020-09-01", "2023-09-01"]), index=["T1", "T2", "T3"]
)
GRADES = pd.DataFrame(columns=["teacher_id", "point", "grade", "assessed_at"])


def test_only_the_teacher_whose_cycle_ended_short_is_flagged() -> None:
    policy = load_policy("chongqing")
    hours = hours_completed(EVENTS, _catalog(), policy, TEACHERS)
    flags = cycle_ended_short(hours, policy, STARTS, "2025-10-01")
    assert flags.to_dict() == {"T1": False, "T2": True, "T3": False}
    # before the five years are up nobody is flagged
    assert not cycle_ended_short(hours, policy, STARTS, "2025-08-01").any()


def test_chongqing_progress_says_the_credit_review_fails() -> None:
    progress = school_progress(
        "S1",
        TEACHERS,
        EVENTS,
        GRADES,
        _catalog(),
        load_policy("chongqing"),
        cycle_start=STARTS,
        as_of="2025-10-01",
    )
    rows = progress.teachers.set_index("teacher_id")
    assert rows["cycle_ended_short"].to_dict() == {"T1": False, "T2": True, "T3": False}
    assert "周期学分审核视为不合格" in rows.loc["T2", "reasons_zh"]
    assert "周期学分审核" not in rows.loc["T3", "reasons_zh"]


def test_national_progress_flags_without_the_credit_sentence() -> None:
    progress = school_progress(
        "S1",
        TEACHERS,
        EVENTS,
        GRADES,
        _catalog(),
        load_policy("national"),
        cycle_start=STARTS,
        as_of="2025-10-01",
    )
    rows = progress.teachers.set_index("teacher_id")
    assert bool(rows.loc["T2", "cycle_ended_short"])
    assert "周期学分审核" not in rows.loc["T2", "reasons_zh"]


def test_without_cycle_dates_nothing_is_flagged() -> None:
    progress = school_progress("S1", TEACHERS, EVENTS, GRADES, _catalog(), load_policy("chongqing"))
    assert not progress.teachers["cycle_ended_short"].any()
