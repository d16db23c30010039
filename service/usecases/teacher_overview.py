"""The teacher view in plain words: levels, titled items, one or two reasons, a dated plan.

A teacher reads 已掌握 / 待提升 / 薄弱, not "掌握概率 ± 标准差"; course titles with hours, not
``CRS-0003``; the one or two reasons that set an item apart, not the five that every item
shares; and a week-by-week plan with dates in which what they already finished is marked done
instead of being scheduled again. Everything is computed from **one** diagnosis of the teacher,
so the level, the probability behind it and the plan's reasons can never disagree between cards.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from competency_model.catalog import Kind
from competency_model.errors import InfeasibleError
from competency_model.plan import Plan
from competency_model.policy import Policy
from recommender.diagnosis.levels import (
    GAP_BELOW,
    LEVEL_LABELS,
    LEVELS,
    MASTERED_FROM,
    mastery_levels,
)
from service.db.stores.province import LOCAL_TIMEZONE
from service.db.stores.records import TeacherRecord
from service.state import ServiceState
from service.usecases import teacher_models as modeling
from service.usecases.progress_views import teacher_cycle
from service.usecases.recommendations import Serving, knows, profile_of, recommend_unknown

__all__ = ["MAX_REASONS", "informative_reasons", "level_rows", "teacher_overview", "weekly_plan"]

#: Reasons shown per item: the most informative first, never the boilerplate all items share.
MAX_REASONS = 2
_VARIABLE = re.compile(r"[A-C]\d{1,2}|\d+(?:\.\d+)?%?")


def _template(reason: str) -> str:
    """The reason with its numbers and point codes blanked: what repeats across items."""
    return _VARIABLE.sub("#", reason)


def informative_reasons(
    items: Sequence[dict[str, Any]], limit: int = MAX_REASONS
) -> list[tuple[list[str], list[str]]]:
    """At most ``limit`` (zh, en) reasons per item, rarest template across ``items`` first.

    A reason whose template every item of the list carries ("面向幼儿园教师设计", "完成可计 #
    学时") tells the teacher nothing about *this* item, so it is dropped whenever the item has
    another one; ties keep the ranker's order.

    >>> rows = [{"reasons_zh": ["完成可计 1 学时", "属于 B3"], "reasons_en": ["1 h", "B3"]},
    ...         {"reasons_zh": ["完成可计 2 学时", "14 位同事已完成"], "reasons_en": ["2 h", "14"]}]
    >>> informative_reasons(rows, 1)
    [(['属于 B3'], ['B3']), (['14 位同事已完成'], ['14'])]
    """
    counts = Counter(
        template
        for item in items
        for template in {_template(reason) for reason in item.get("reasons_zh", [])}
    )
    everywhere = len(items) if len(items) > 1 else len(items) + 1
    chosen: list[tuple[list[str], list[str]]] = []
    for item in items:
        zh = list(item.get("reasons_zh", []))
        en = list(item.get("reasons_en", [])) + [""] * max(
            0, len(zh) - len(item.get("reasons_en", []))
        )
        order = sorted(range(len(zh)), key=lambda i: (counts[_template(zh[i])], i))
        kept = [i for i in order if counts[_template(zh[i])] < everywhere] or order[:1]
        kept = kept[:limit]
        chosen.append(([zh[i] for i in kept], [en[i] or zh[i] for i in kept]))
    return chosen


def level_rows(diagnosis: pd.DataFrame) -> list[dict[str, Any]]:
    """Diagnosis rows with their level (:func:`recommender.diagnosis.levels.mastery_levels`)."""
    levels = mastery_levels(diagnosis["mastery_probability"].to_numpy(dtype=float))
    rows = []
    for row, level in zip(modeling.diagnosis_rows(diagnosis), levels, strict=True):
        zh, en = LEVEL_LABELS[str(level)]
        rows.append({**row, "level": str(level), "level_zh": zh, "level_en": en})
    return rows


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _plan_reasons(
    points: Sequence[str], mastery: dict[str, float], artifacts: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Why a plan item is there: the weakest point it develops, then what it produces."""
    zh: list[str] = []
    en: list[str] = []
    known = [code for code in points if code in mastery]
    if known:
        weakest = min(known, key=lambda code: mastery[code])
        level = str(mastery_levels([mastery[weakest]])[0])
        label_zh, label_en = LEVEL_LABELS[level]
        zh.append(f"针对 {weakest}（{label_zh}）")
        en.append(f"works on {weakest} ({label_en})")
    if artifacts:
        zh.append(f"产出考核证据：{'、'.join(artifacts)}")
        en.append(f"produces assessment evidence: {', '.join(artifacts)}")
    return zh[:MAX_REASONS], en[:MAX_REASONS]


def weekly_plan(
    plan: Plan,
    state: ServiceState,
    mastery: dict[str, float],
    completed_on: dict[str, date],
    today: date,
) -> dict[str, Any]:
    """The plan as dated weeks, starting on this week's Monday, with finished items apart.

    Items the teacher already completed count for the cycle's hours but are listed under
    ``done`` with their completion date, never in a future week; the remaining weeks keep the
    planner's order and weekly hour cap, with weeks left empty by them closed up.
    """
    catalog = state.catalog
    ids = state.catalog_item_ids
    start = _monday(today)

    def describe(item_id: str, kind: str, hours: float, points: list[str]) -> dict[str, Any]:
        entry = catalog.get(item_id) if item_id in ids else None
        zh, en = _plan_reasons(points, mastery, entry.artifacts if entry else [])
        return {
            "id": item_id,
            "title_zh": entry.title_zh if entry else item_id,
            "kind": kind,
            "hours": hours,
            "points": points,
            "reasons_zh": zh,
            "reasons_en": en,
        }

    done = []
    pending: dict[int, list[dict[str, Any]]] = {}
    for item in plan.items:
        row = describe(item.id, item.kind, item.hours, list(item.points))
        if item.id in completed_on:
            done.append({**row, "done": True, "completed_on": completed_on[item.id].isoformat()})
        else:
            pending.setdefault(item.week, []).append({**row, "done": False})
    weeks = []
    for number, week in enumerate(sorted(pending), start=1):
        begins = start + timedelta(weeks=number - 1)
        items = pending[week]
        weeks.append(
            {
                "week": number,
                "starts_on": begins.isoformat(),
                "ends_on": (begins + timedelta(days=6)).isoformat(),
                "hours": round(sum(i["hours"] for i in items), 6),
                "items": items,
            }
        )
    done.sort(key=lambda row: (row["completed_on"], row["id"]))
    return {
        "policy": plan.policy,
        "targets": plan.targets,
        "totals": plan.totals.model_dump(mode="json"),
        "done_hours": round(sum(row["hours"] for row in done), 6),
        "planned_hours": round(sum(week["hours"] for week in weeks), 6),
        "evidence": plan.evidence,
        "violations": [v.model_dump(mode="json") for v in plan.violations],
        "done": done,
        "weeks": weeks,
    }


def _completion_dates(record: TeacherRecord) -> dict[str, date]:
    """First completion day (Beijing time) of every catalog item the teacher finished."""
    events = record.events
    if events.empty:
        return {}
    finished = events[events["event"] == "complete"].sort_values("timestamp")
    local = pd.to_datetime(finished["timestamp"], utc=True).dt.tz_convert(LOCAL_TIMEZONE)
    dates: dict[str, date] = {}
    for item_id, moment in zip(finished["item_id"].astype(str), local, strict=True):
        dates.setdefault(item_id, moment.date())
    return dates


def _recommended(
    state: ServiceState, record: TeacherRecord, mastery: dict[str, float], kind: Kind, k: int
) -> tuple[list[dict[str, Any]], bool]:
    models = state.registry.require()
    teacher_id = record.teacher.teacher_id
    completed = record.completed
    decision = knows(models.recommender, teacher_id, True)
    if decision.mode is Serving.KNOWN and decision.row is not None:
        rendered = state.ranking_cache.top(
            models, teacher_id, decision.row, kind, True, k, set(completed)
        )
        items = [json.loads(raw) for raw in rendered]
    else:
        found = recommend_unknown(
            models.recommender,
            decision,
            profile_of(record.teacher, record.school),
            completed,
            kind,
            k,
            mastery,
        )
        items = [item.model_dump(mode="json") for item in found]
    cold = decision.cold_start
    reasons = informative_reasons(items)
    rows = [
        {
            "item_id": item["item_id"],
            "title_zh": item["title_zh"],
            "kind": item["kind"],
            "hours": item["hours"],
            "points": sorted(item.get("points", {})),
            "reasons_zh": zh,
            "reasons_en": en,
        }
        for item, (zh, en) in zip(items, reasons, strict=True)
    ]
    return rows, cold


def teacher_overview(
    state: ServiceState, record: TeacherRecord, policy: Policy, *, today: date | None = None
) -> dict[str, Any]:
    """Everything the teacher view shows, from one diagnosis of the teacher.

    Parameters
    ----------
    state
        The service's catalog, framework and models.
    record
        The teacher's stored answers, grades and learning events.
    policy
        The policy the plan must meet.
    today
        The day the plan's week 1 contains (default: today in Beijing time).
    """
    models = state.registry.require()
    diagnosis = modeling.diagnose(models, record)
    mastery = modeling.mastery_of(diagnosis)
    levels = level_rows(diagnosis)
    day = today or datetime.now(UTC).astimezone(ZoneInfo(LOCAL_TIMEZONE)).date()
    courses, cold = _recommended(state, record, mastery, "course", 8)
    tasks, _ = _recommended(state, record, mastery, "task", 6)
    try:
        plan = modeling.learning_path(state, record, mastery, policy)
        path: dict[str, Any] | None = weekly_plan(
            plan, state, mastery, _completion_dates(record), day
        )
        path_problem = None
    except InfeasibleError as error:
        # The other cards still help; the plan card says why no compliant plan exists.
        path, path_problem = None, {"detail": str(error), **error.details}
    teacher, school = record.teacher, record.school
    counts = Counter(row["level"] for row in levels)
    return {
        "teacher_id": teacher.teacher_id,
        "model_version": models.version,
        "as_of": day.isoformat(),
        "profile": {
            "school_id": school.school_id,
            "stage": teacher.stage,
            "subject": teacher.subject,
            "research_group": teacher.research_group,
            "environment": school.environment,
        },
        "thresholds": {"gap_below": GAP_BELOW, "mastered_from": MASTERED_FROM},
        "level_counts": {level: int(counts.get(level, 0)) for level in LEVELS},
        "points": levels,
        "cold_start": cold,
        "courses": courses,
        "tasks": tasks,
        "plan": path,
        "plan_problem": path_problem,
        "cycle": teacher_cycle(
            record.events, teacher.teacher_id, school, policy, state.catalog, day
        ),
    }
