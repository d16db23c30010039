"""Process assessment: 学时 by kind from events, and the cycle status against Jiangsu and Chongqing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from competency_model import load_policy
from competency_model.assessment import (
    LearningEvent,
    ProcessRecord,
    cycle_end,
    cycle_status,
    learning_hours,
)

JIANGSU = load_policy("jiangsu")
CHONGQING = load_policy("chongqing")
START = date(2021, 9, 1)


@dataclass(frozen=True)
class Entry:
    item_id: str
    hours: float
    kind: str


def catalog(**counts: int) -> dict[str, Entry]:
    """``online_video=5`` → five 5-hour online video courses, and so on."""
    hours = {"online_video": 5.0, "live": 5.0, "practice": 5.0, "school_research": 2.5}
    out = {}
    for kind, n in counts.items():
        for i in range(n):
            out[f"{kind}-{i}"] = Entry(f"{kind}-{i}", hours[kind], kind)
    return out


def completions(items: dict[str, Entry], teacher: str = "T1") -> list[LearningEvent]:
    at = datetime(2022, 1, 1, tzinfo=UTC)
    return [
        LearningEvent(
            teacher_id=teacher, item_id=item_id, event="complete", timestamp=at + timedelta(days=n)
        )
        for n, item_id in enumerate(items)
    ]


def record(policy_name: str, **counts: int) -> ProcessRecord:
    items = catalog(**counts)
    return learning_hours("T1", completions(items), items, load_policy(policy_name))


def test_hours_are_split_by_the_policy_kinds() -> None:
    rec = record("chongqing", online_video=2, live=2, practice=3, school_research=2)
    assert (rec.hours, rec.online_hours, rec.practice_hours) == (40.0, 20.0, 20.0)
    assert (rec.school_research_sessions, rec.school_research_hours) == (2, 5.0)


def test_jiangsu_does_not_count_live_sessions_as_online_hours() -> None:
    rec = record("jiangsu", online_video=2, live=2, practice=1)
    assert (rec.hours, rec.online_hours, rec.practice_hours) == (25.0, 10.0, 5.0)


def test_only_completion_counts_and_only_once() -> None:
    items = catalog(online_video=2)
    at = datetime(2022, 1, 1, tzinfo=UTC)
    events = [
        LearningEvent(teacher_id="T1", item_id="online_video-0", event="enrol", timestamp=at),
        LearningEvent(
            teacher_id="T1", item_id="online_video-0", event="progress", value=0.9, timestamp=at
        ),
        LearningEvent(teacher_id="T1", item_id="online_video-1", event="complete", timestamp=at),
        LearningEvent(teacher_id="T1", item_id="online_video-1", event="complete", timestamp=at),
        LearningEvent(teacher_id="T2", item_id="online_video-0", event="complete", timestamp=at),
    ]
    rec = learning_hours("T1", events, items, JIANGSU)
    assert rec.hours == 5.0 and rec.completed == ["online_video-1"]


def test_events_may_be_plain_mappings_and_unknown_items_are_reported() -> None:
    rows = [
        {
            "teacher_id": "T1",
            "item_id": "CRS-9999",
            "event": "complete",
            "timestamp": "2022-01-01T00:00:00Z",
            "event_id": "x",
        }
    ]
    rec = learning_hours("T1", rows, catalog(), JIANGSU)
    assert rec.hours == 0.0 and rec.unknown_items == ["CRS-9999"]


PASSED = {"A1": "合格", "A3": "优秀", "B6": "合格"}
TARGETS = ("A1", "A3", "B6")


@pytest.mark.parametrize(
    ("policy_name", "counts", "complete"),
    [
        ("jiangsu", {"online_video": 5, "practice": 5}, True),
        ("jiangsu", {"live": 5, "practice": 5}, False),  # live is not Jiangsu online 学时
        ("jiangsu", {"online_video": 4, "practice": 6}, False),  # 20 < 25 online
        ("chongqing", {"live": 5, "practice": 5}, True),
        ("chongqing", {"online_video": 4, "practice": 6}, True),
        ("chongqing", {"online_video": 6, "practice": 4}, False),  # practice 40 % < 50 %
        ("chongqing", {"online_video": 3, "practice": 5}, False),  # 40 < 50 total
    ],
)
def test_complete_only_when_every_hour_rule_is_met(
    policy_name: str, counts: dict[str, int], complete: bool
) -> None:
    rec = record(policy_name, **counts)
    status = cycle_status(
        rec,
        load_policy(policy_name),
        cycle_start=START,
        as_of=date(2023, 6, 1),
        point_results=PASSED,
        targets=TARGETS,
    )
    assert (status.status == "complete") is complete
    if not complete:
        assert status.missing and all(v.message_zh and v.message_en for v in status.missing)


@pytest.mark.parametrize(
    ("policy_name", "counts", "rules"),
    [
        ("jiangsu", {"live": 5, "practice": 5}, ["min_online_hours"]),
        (
            "chongqing",
            {"online_video": 6, "practice": 4},
            ["min_practice_hours", "min_practice_share"],
        ),
        ("chongqing", {"online_video": 3, "practice": 5}, ["total_hours"]),
        ("jiangsu", {"online_video": 3, "practice": 5}, ["total_hours", "min_online_hours"]),
    ],
)
def test_missing_names_each_unmet_rule(
    policy_name: str, counts: dict[str, int], rules: list[str]
) -> None:
    status = cycle_status(
        record(policy_name, **counts),
        load_policy(policy_name),
        cycle_start=START,
        as_of=date(2023, 6, 1),
        point_results=PASSED,
        targets=TARGETS,
    )
    assert [v.rule for v in status.missing] == rules


@pytest.mark.parametrize("policy", [JIANGSU, CHONGQING], ids=["jiangsu", "chongqing"])
def test_early_in_the_cycle_a_slow_start_is_on_track(policy: object) -> None:
    status = cycle_status(
        record("jiangsu", online_video=1),
        policy,
        cycle_start=START,  # type: ignore[arg-type]
        as_of=date(2022, 3, 1),
    )
    assert status.status == "on_track" and status.risks == []


@pytest.mark.parametrize("policy", [JIANGSU, CHONGQING], ids=["jiangsu", "chongqing"])
def test_far_behind_the_steady_pace_is_at_risk(policy: object) -> None:
    status = cycle_status(
        record("jiangsu", online_video=1),
        policy,
        cycle_start=START,  # type: ignore[arg-type]
        as_of=date(2025, 9, 1),
    )
    assert status.status == "at_risk" and "behind_pace" in status.risks


def test_hours_that_no_longer_fit_the_weekly_limit_are_at_risk() -> None:
    rec = record("jiangsu", online_video=9)  # 45 h, 5 h to go, 0 weeks left
    status = cycle_status(
        rec, JIANGSU, cycle_start=START, as_of=cycle_end(START, JIANGSU) - timedelta(days=3)
    )
    assert status.risks == ["pace_infeasible"] and status.status == "at_risk"


def test_an_ended_cycle_that_is_incomplete_is_at_risk() -> None:
    status = cycle_status(
        record("jiangsu", online_video=9), JIANGSU, cycle_start=START, as_of=date(2030, 1, 1)
    )
    assert "cycle_ended" in status.risks and status.elapsed_share == 1.0


def test_a_failed_point_puts_the_teacher_at_risk_with_what_to_redo() -> None:
    status = cycle_status(
        record("jiangsu", online_video=5, practice=5),
        JIANGSU,
        cycle_start=START,
        as_of=date(2022, 6, 1),
        point_results={**PASSED, "B6": "不合格"},
        targets=TARGETS,
    )
    assert status.status == "at_risk" and status.risks == ["failed_points"]
    assert [v.rule for v in status.missing] == ["failed_points"] and "B6" in status.missing[
        0
    ].message_zh


def test_unassessed_targets_keep_the_cycle_open() -> None:
    status = cycle_status(
        record("chongqing", online_video=5, practice=5),
        CHONGQING,
        cycle_start=START,
        as_of=date(2022, 6, 1),
        point_results={"A1": "合格"},
        targets=TARGETS,
    )
    assert status.status == "on_track"
    assert [v.rule for v in status.missing] == ["unassessed_points"]


def test_without_targets_the_policy_minimum_of_passed_points_applies() -> None:
    status = cycle_status(
        record("chongqing", online_video=5, practice=5),
        CHONGQING,
        cycle_start=START,
        as_of=date(2022, 6, 1),
        point_results={"A1": "合格", "A3": "优秀"},
    )
    assert [v.rule for v in status.missing] == ["passed_points"]


@pytest.mark.parametrize(
    ("policy_name", "start", "end"),
    [
        ("jiangsu", date(2021, 9, 1), date(2026, 9, 1)),
        ("sichuan", date(2020, 2, 29), date(2023, 2, 28)),
    ],
)
def test_cycle_end_follows_the_policy_years(policy_name: str, start: date, end: date) -> None:
    assert cycle_end(start, load_policy(policy_name)) == end


def test_bad_pace_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="pace_tolerance"):
        cycle_status(record("jiangsu"), JIANGSU, cycle_start=START, as_of=START, pace_tolerance=2)
