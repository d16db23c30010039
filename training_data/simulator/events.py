"""Learning events (enrol → progress → complete → rate) and assessment grades for one chunk.

Times are days after the cycle start. A school starts in its rollout year; a teacher answers the
questionnaire in the first two weeks, enrols in her courses one after another (exponential gaps,
mean 15 days), needs 1–5 days per 学时 and rates some courses soon after finishing. Practice
tasks start 1.5–5.5 months in and last 2–8 weeks; the school grades the evidence 3–30 days later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from training_data.simulator.config import SimulatorConfig
from training_data.simulator.ids import STRING_DTYPE, format_ids, take_strings

__all__ = [
    "Enrolments",
    "build_events",
    "censor_at_export",
    "days_to_timestamps",
    "grade_points",
    "park_after_target",
    "simulate_outcomes",
]

_EVENT_NAMES = np.array(["enrol", "progress", "complete", "rate"], dtype=object)
_SECONDS_PER_DAY = 86_400


@dataclass
class Enrolments:
    """One row per (teacher, catalog item) enrolment with its simulated outcome."""

    teacher: NDArray[np.int64]
    item: NDArray[np.int64]
    start: NDArray[np.float64]  # day
    duration: NDArray[np.float64]  # days until complete (or until the planned end)
    completed: NDArray[np.bool_]
    final_progress: NDArray[np.float64]
    n_progress: NDArray[np.int64]
    rating: NDArray[np.float64]  # NaN = not rated
    rating_delay: NDArray[np.float64]  # days from the last activity to the rating


def days_to_timestamps(start: str, days: NDArray[np.float64]) -> NDArray[np.datetime64]:
    """``start`` + ``days`` rounded to the second, as ``datetime64[us]``."""
    seconds = np.round(days * _SECONDS_PER_DAY).astype(np.int64)
    return np.datetime64(start, "s") + seconds.astype("timedelta64[s]")


def simulate_outcomes(
    teacher: NDArray[np.int64],
    item: NDArray[np.int64],
    start: NDArray[np.float64],
    duration: NDArray[np.float64],
    p_complete: NDArray[np.float64],
    rating_mean: NDArray[np.float64],
    rng: np.random.Generator,
    config: SimulatorConfig,
) -> Enrolments:
    """Draw completion (else dropout at a uniform progress), progress steps and ratings."""
    n = teacher.size
    completed = rng.random(n) < p_complete
    final = np.where(completed, 1.0, rng.uniform(0.05, 0.9, n))
    n_progress = np.where(completed, 1 + rng.binomial(2, 0.5, n), rng.binomial(3, 0.5, n))
    final = np.where(n_progress == 0, 0.0, final)
    rated = rng.random(n) < np.where(completed, config.rating_probability, 0.1)
    raw = rating_mean - 1.0 * ~completed + rng.normal(0.0, 0.8, n)
    rating = np.where(rated, np.clip(np.round(raw), 1, 5), np.nan)
    delay = rng.uniform(0.2, 3.0, n)
    return Enrolments(teacher, item, start, duration, completed, final, n_progress, rating, delay)


def park_after_target(
    enrolments: Enrolments,
    hours: NDArray[np.float64],
    target_hours: NDArray[np.float64],
    rng: np.random.Generator,
) -> Enrolments:
    """Leave courses 学习中 once a teacher's completed 学时 reach her target.

    Rows must be sorted by teacher and enrolment order. A teacher who over-enrols stops
    finishing once her completed hours before a course reach ``target_hours``: that course
    stays started (1–2 progress events, progress U(0.05, 0.6)), not completed and not rated.
    """
    e = enrolments
    done_hours = np.where(e.completed, hours, 0.0)
    total = np.cumsum(done_hours)
    first = np.searchsorted(e.teacher, e.teacher, side="left")
    before = total - done_hours - (total[first] - done_hours[first])
    parked = before >= target_hours[e.teacher]
    progress = rng.uniform(0.05, 0.6, e.teacher.size)
    steps = 1 + rng.binomial(1, 0.5, e.teacher.size)
    return Enrolments(
        e.teacher,
        e.item,
        e.start,
        e.duration,
        e.completed & ~parked,
        np.where(parked, progress, e.final_progress),
        np.where(parked, steps, e.n_progress),
        np.where(parked, np.nan, e.rating),
        e.rating_delay,
    )


def censor_at_export(enrolments: Enrolments, export_day: float) -> Enrolments:
    """The enrolments as an export taken on ``export_day`` sees them.

    Enrolments that start later do not exist yet. One still running on the export day is 学习中:
    not completed, its progress the share of its planned time that has passed (so every progress
    event lies before the export; at least one, since the teacher has started), and no rating.
    A rating given after the export is dropped. Learning is computed from the censored rows, so
    the truth tables are the state on the export day.
    """
    e = enrolments
    keep = e.start < export_day
    elapsed = np.clip((export_day - e.start) / np.maximum(e.duration, 1e-9), 0.0, 0.99)
    finished_at = np.where(
        e.completed, e.start + e.duration + 1e-4, e.start + e.duration * e.final_progress
    )
    running = keep & (finished_at >= export_day)
    completed = e.completed & ~running
    final = np.where(running, np.minimum(e.final_progress, elapsed), e.final_progress)
    n_progress = np.where(running, np.maximum(e.n_progress, 1), e.n_progress)
    end = np.where(completed, e.start + e.duration, e.start + e.duration * final)
    late_rating = end + e.rating_delay >= export_day
    rating = np.where(running | late_rating, np.nan, e.rating)
    return Enrolments(
        e.teacher[keep],
        e.item[keep],
        e.start[keep],
        e.duration[keep],
        completed[keep],
        final[keep],
        n_progress[keep],
        rating[keep],
        e.rating_delay[keep],
    )


def build_events(
    parts: list[Enrolments],
    teacher_ids: pd.Series,
    first_teacher: int,
    item_ids: list[str],
    config: SimulatorConfig,
) -> pd.DataFrame:
    """The ``events`` table: rows sorted by teacher and time, ``event_id`` = E + teacher + seq."""
    e = Enrolments(
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in Enrolments.__dataclass_fields__
        }
    )
    n = e.teacher.size
    # progress steps: k-th of m at fraction k/m of the way to the final progress
    step_owner = np.repeat(np.arange(n), e.n_progress)
    step_rank = np.arange(step_owner.size) - np.repeat(
        np.cumsum(e.n_progress) - e.n_progress, e.n_progress
    )
    step_fraction = (step_rank + 1) / e.n_progress[step_owner]
    step_value = np.round(e.final_progress[step_owner] * step_fraction, 3)
    step_day = (
        e.start[step_owner] + e.duration[step_owner] * e.final_progress[step_owner] * step_fraction
    )
    done = np.flatnonzero(e.completed)
    complete_day = e.start[done] + e.duration[done] + 1e-4
    rated = np.flatnonzero(~np.isnan(e.rating))
    end = np.where(e.completed, e.start + e.duration, e.start + e.duration * e.final_progress)
    rate_day = end[rated] + e.rating_delay[rated]
    owner = np.concatenate([np.arange(n), step_owner, done, rated])
    kind = np.concatenate(
        [np.zeros(n), np.ones(step_owner.size), np.full(done.size, 2), np.full(rated.size, 3)]
    ).astype(np.int64)
    value = np.concatenate(
        [np.full(n, np.nan), step_value, np.full(done.size, np.nan), e.rating[rated]]
    )
    day = np.concatenate([e.start, step_day, complete_day, rate_day])
    teacher = e.teacher[owner]
    order = np.lexsort((kind, day, teacher))
    teacher, owner, kind, value, day = (a[order] for a in (teacher, owner, kind, value, day))
    first_row = np.searchsorted(teacher, teacher, side="left")
    sequence = np.arange(teacher.size) - first_row + 1
    item_series = pd.Series(item_ids, dtype=STRING_DTYPE)
    return pd.DataFrame(
        {
            "event_id": format_ids("E", (first_teacher + teacher) * 10_000 + sequence, 11),
            "teacher_id": take_strings(teacher_ids, teacher),
            "item_id": take_strings(item_series, e.item[owner]),
            "event": pd.Series(_EVENT_NAMES[kind], dtype=STRING_DTYPE),
            "value": value,
            "timestamp": days_to_timestamps(config.cycle_start, np.asarray(day, dtype=np.float64)),
        }
    )


def grade_points(
    teacher: NDArray[np.int64],
    point: NDArray[np.int64],
    final_margin: NDArray[np.float64],
    leniency: NDArray[np.float64],
    assessed_day: NDArray[np.float64],
    teacher_ids: pd.Series,
    codes: list[str],
    rng: np.random.Generator,
    config: SimulatorConfig,
) -> pd.DataFrame:
    """The ``grades`` table: score = θ_final − b + school leniency + noise, cut into three grades."""
    score = (
        final_margin[teacher, point]
        + leniency
        + rng.normal(0.0, config.grade_noise_sd, teacher.size)
    )
    low, high = config.grade_thresholds
    grade = np.where(score < low, "不合格", np.where(score > high, "优秀", "合格")).astype(object)
    return pd.DataFrame(
        {
            "teacher_id": take_strings(teacher_ids, teacher),
            "point": pd.Series(np.array(codes, dtype=object)[point], dtype=STRING_DTYPE),
            "grade": pd.Series(grade, dtype=STRING_DTYPE),
            "assessed_at": days_to_timestamps(config.cycle_start, assessed_day),
        }
    )
