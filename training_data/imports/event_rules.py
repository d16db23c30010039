"""Learning records → ``events`` rows: an event log, a learning-state export or a completion export.

Three shapes of export carry learning records:

* an **event log** (学习行为 + 时间): one event per row, as written;
* a **learning-state export** (学习状态/完成状态/是否完成 …): the state decides the event —
  已完成/已学完/是 → ``complete``, 学习中/进行中 → ``progress`` (no progress value needed),
  未开始/已报名/已选课/未完成/否 → ``enrol``; an unknown state is a row error naming it. A
  完成时间 on a row whose state is not finished does **not** make it a completion;
* a **completion export** (报名时间/完成时间): ``enrol`` at 报名时间, ``complete`` at 完成时间 —
  unless a progress column says the course is not finished (< 100 %), then ``progress``.

Every rule that decides completions on its own is counted in the tally so the report says how
many rows it changed.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog
from competency_model.province import TABLE_COLUMNS
from training_data.imports import fields as f
from training_data.imports.checks import Checker, Tally, event_ids

__all__ = ["RuleContext", "events_frame"]

_STATES_TEXT = "已完成/学习中/未开始/已报名/未完成/是/否"
Part = tuple[pd.Series, pd.Series, pd.Series, np.ndarray]


class RuleContext(Protocol):
    """What the event rules need from the validator."""

    catalog: Catalog
    export_date: pd.Timestamp
    tally: Tally

    def teacher_ref(self, check: Checker, teacher: pd.Series) -> None: ...

    def time(self, check: Checker, field: str, text: pd.Series) -> pd.Series: ...

    def frame(self, check: Checker, table: str, columns: dict[str, pd.Series]) -> pd.DataFrame: ...


def events_frame(ctx: RuleContext, check: Checker) -> pd.DataFrame:
    """The ``events`` rows of a chunk (several per row for 报名 + 完成), with stable ids."""
    teacher, item = check.text("teacher_id"), check.text("item_id")
    ctx.teacher_ref(check, teacher)
    check.flag(
        item.ne("") & ~item.isin(ctx.catalog.ids),
        "item_id",
        "课程编号不在课程目录中",
        "item_id is not in the course catalog",
    )
    if check.has("hours"):
        hours = f.parse_number(check.text("hours", required=False))
        check.checked(
            "hours", hours, "学时应为正数", "hours must be a positive number", ok=hours > 0
        )
    if check.has("event"):
        parts = _event_log(ctx, check)
    elif check.has("state"):
        parts = _state_export(ctx, check)
    else:
        parts = _completion_export(ctx, check)
    frames = []
    for event, when, value, use in parts:
        rows = ctx.frame(
            check,
            "events",
            {
                "event_id": pd.Series("", index=event.index, dtype=str),
                "teacher_id": teacher,
                "item_id": item,
                "event": event,
                "value": value,
                "timestamp": when,
            },
        )
        frames.append(rows[use])
    if not frames:
        return pd.DataFrame(columns=[*TABLE_COLUMNS["events"], "_source", "_row", "_position"])
    out = pd.concat(frames, ignore_index=True)
    ok = out["event"].notna() & out["timestamp"].notna()
    out.loc[ok, "event_id"] = event_ids(
        out.loc[ok, "teacher_id"],
        out.loc[ok, "item_id"],
        out.loc[ok, "event"],
        out.loc[ok, "timestamp"],
    )
    return out


def _constant(value: object, index: pd.Index) -> pd.Series:
    return pd.Series([value] * len(index), index=index, dtype=object)


def _progress_values(
    check: Checker, rows: pd.Series | None = None, required: bool = False
) -> pd.Series:
    """Progress fractions of the ``value`` column on ``rows`` (default all; NaN where blank).

    Bad values are flagged; with ``required`` a blank one is too.
    """
    text = check.text("value", required=False)
    fraction = f.parse_progress(text)
    bad = (text.ne("") | required) & (fraction.isna() | (fraction < 0) | (fraction > 1))
    if rows is not None:
        bad = bad & rows
    check.flag(bad, "value", "学习进度应为0–1或0%–100%", "progress must be 0–1 or 0%–100%")
    return fraction.where(~bad)


def _event_log(ctx: RuleContext, check: Checker) -> list[Part]:
    event = check.checked(
        "event",
        f.vocabulary(check.text("event"), f.EVENT_ALIASES),
        "未知学习行为，应为报名/学习中/完成/评分",
        "unknown event; use enrol/progress/complete/rate",
    )
    when_field = next(
        (c for c in ("timestamp", "completed_at", "enrolled_at") if check.has(c)), "timestamp"
    )
    when = ctx.time(check, when_field, check.text(when_field))
    progress, rating = event.eq("progress"), event.eq("rate")
    fraction = _progress_values(check, rows=progress, required=True)
    stars = f.parse_number(check.text("value", required=False))
    check.flag(
        rating & ~stars.isin([1, 2, 3, 4, 5]),
        "value",
        "评分应为1–5的整数",
        "rating must be a whole number 1–5",
    )
    value = fraction.where(progress, stars.where(rating))
    return [(event, when, value, np.ones(len(event), dtype=bool))]


def _times(ctx: RuleContext, check: Checker, column: str) -> tuple[pd.Series, pd.Series]:
    """(parsed time, non-blank mask) of an optional time column."""
    if not check.has(column):
        empty = pd.Series(False, index=check.cells.index)
        return pd.Series(pd.NaT, index=check.cells.index, dtype="datetime64[us]"), empty
    text = check.text(column, required=False)
    return ctx.time(check, column, text), text.ne("")


def _state_export(ctx: RuleContext, check: Checker) -> list[Part]:
    text = check.text("state")
    kind = check.checked(
        "state",
        f.vocabulary(text, f.STATE_ALIASES),
        f"未知学习状态，应为{_STATES_TEXT}等（或用 --mapping 映射该值）",
        f"unknown learning state; use {_STATES_TEXT} … (or map the value with --mapping)",
    )
    enrolled, has_enrolled = _times(ctx, check, "enrolled_at")
    completed, has_completed = _times(ctx, check, "completed_at")
    stamped, has_stamp = _times(ctx, check, "timestamp")
    fraction = (
        _progress_values(check) if check.has("value") else pd.Series(np.nan, index=text.index)
    )
    moment = ctx.export_date
    complete, progress, enrol = kind.eq("complete"), kind.eq("progress"), kind.eq("enrol")
    done_at = completed.where(has_completed, stamped.where(has_stamp, moment))
    # A progress or enrolment state is dated by the learning time, else the enrolment, else
    # the export: a 完成时间 on an unfinished row is not evidence of anything being finished.
    seen_at = stamped.where(has_stamp, enrolled.where(has_enrolled, moment))
    inferred = (complete & ~has_completed & ~has_stamp) | (
        (progress | (enrol & ~has_enrolled)) & ~has_stamp & ~has_enrolled
    )
    ctx.tally.note("timestamp_inferred", check.source, "state", text[inferred])
    ctx.tally.note(
        "completion_rule", check.source, "state", text[has_completed & ~complete & kind.notna()]
    )
    ctx.tally.note(
        "completions",
        check.source,
        "state",
        pd.Series(
            ["complete"] * int(complete.sum())
            + ["with_completed_at"] * int(has_completed.sum())
            + ["rows"] * len(text)
        ),
    )
    nan = pd.Series(np.nan, index=text.index)
    return [
        (_constant("enrol", text.index), enrolled, nan, has_enrolled.to_numpy()),
        (_constant("enrol", text.index), seen_at, nan, (enrol & ~has_enrolled).to_numpy()),
        (_constant("progress", text.index), seen_at, fraction, progress.to_numpy()),
        (_constant("complete", text.index), done_at, nan, complete.to_numpy()),
    ]


def _completion_export(ctx: RuleContext, check: Checker) -> list[Part]:
    stamps = {"enrol": "enrolled_at", "complete": "completed_at"}
    present = {kind: column for kind, column in stamps.items() if check.has(column)}
    if not present:
        check.flag(
            np.ones(len(check.cells), bool),
            "completed_at",
            "缺少完成时间/报名时间（或学习状态、学习行为+时间）列",
            "needs a 完成时间/completed_at or 报名时间/enrolled_at column (or a 学习状态 column, "
            "or 学习行为 + 时间)",
        )
        return []
    texts = {kind: check.text(column, required=False) for kind, column in present.items()}
    none_given = np.logical_and.reduce([t.eq("").to_numpy() for t in texts.values()])
    check.flag(
        none_given,
        next(iter(present.values())),
        "必填项为空",
        "required value is empty (no enrolment or completion time)",
    )
    nan = pd.Series(np.nan, index=check.cells.index)
    fraction = _progress_values(check) if check.has("value") else nan
    parts: list[Part] = []
    for kind, column in present.items():
        when = ctx.time(check, column, texts[kind])
        given = texts[kind].ne("")
        if kind == "complete":
            unfinished = given & (fraction < 1)
            if check.has("value"):
                values = check.cells["value"][unfinished]
                ctx.tally.note("completion_rule", check.source, "value", values)
            parts.append((_constant("progress", when.index), when, fraction, unfinished.to_numpy()))
            given = given & ~unfinished
        parts.append((_constant(kind, when.index), when, nan, given.to_numpy()))
    return parts
