"""Erase a teacher (PIPL art. 47): personal rows and model state go at once, counts stay.

``DELETE /v1/teachers/{id}`` and ``nengli teachers erase ID`` both call :func:`erase_teacher`.
One transaction deletes the teacher's rows (:mod:`service.db.stores.erasure`), adds what the
teacher contributed to school and region progress to anonymous counters (per school and
policy, per school, point and grade) and writes the tombstone. After the commit the caller
drops the teacher from the model in memory (:func:`forget_in_memory`); other worker processes
follow within ``NENGLI_RELOAD_POLL_SECONDS`` (:func:`follow_erasures`), and a model loaded
later is cleaned the same way before it serves (:func:`forget_erased`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.errors import NotFoundError, PermissionDenied
from competency_model.policy import available_policies, load_policy
from recommender.bundle import ModelBundle
from recommender.school_planning.progress import compliance, hours_completed
from service.auth import Principal
from service.db.stores.erasure import (
    ProgressContribution,
    erase_teacher_rows,
    erased_ids_since,
    lock_teacher,
    teacher_records,
)

if TYPE_CHECKING:
    from service.usecases.ranking_cache import RankingCache

__all__ = [
    "ERASING_ROLES",
    "ErasureResult",
    "erase_teacher",
    "follow_erasures",
    "forget_erased",
    "forget_in_memory",
    "progress_contributions",
]

log = logging.getLogger("nengli.service.erasure")

#: Who may erase: the school's own administrators and the service's administrators.
ERASING_ROLES = ("admin", "school")


@dataclass(frozen=True)
class ErasureResult:
    """What one erasure removed (counts per table), for the caller and the operator."""

    teacher_id: str
    erased_at: datetime
    rows_deleted: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "teacher_id": self.teacher_id,
            "erased_at": self.erased_at.isoformat(),
            "rows_deleted": self.rows_deleted,
        }


def progress_contributions(
    teacher_id: str, events: list[Any], catalog: Catalog
) -> list[ProgressContribution]:
    """The teacher's hours, compliance and start under every shipped policy.

    Computed with the same functions as region progress
    (:func:`recommender.school_planning.progress.compliance`), so the counters add exactly what
    the teacher's rows added before the erasure.
    """
    frame = pd.DataFrame(events, columns=["teacher_id", "item_id", "event", "timestamp"])
    frame["teacher_id"] = teacher_id
    teachers = pd.DataFrame({"teacher_id": [teacher_id]})
    started = bool((frame["event"] == "enrol").any())
    parts = []
    for name in available_policies():
        policy = load_policy(name)
        row = compliance(hours_completed(frame, catalog, policy, teachers), policy).iloc[0]
        parts.append(
            ProgressContribution(
                policy=name,
                started=started,
                compliant=bool(row["compliant"]),
                hours=float(row["hours"]),
                practice_hours=float(row["practice_hours"]),
            )
        )
    return parts


def _latest_grades(grades: list[Any]) -> dict[str, str]:
    latest: dict[str, tuple[datetime, str]] = {}
    for _teacher, point, grade, assessed_at in grades:
        if point not in latest or assessed_at >= latest[point][0]:
            latest[point] = (assessed_at, grade)
    return {point: grade for point, (_at, grade) in latest.items()}


def erase_teacher(
    session: Session, principal: Principal, teacher_id: str, catalog: Catalog
) -> ErasureResult:
    """Erase ``teacher_id`` in one committed transaction.

    Raises
    ------
    PermissionDenied
        A platform or teacher key (403, whatever the id: the answer says nothing about it).
    NotFoundError
        The teacher does not exist or is outside the key's scope (the same 404 for both).
    """
    if principal.role not in ERASING_ROLES:
        raise PermissionDenied(
            f"erasing a teacher needs a school or admin key, not a {principal.role} key"
        )
    found = lock_teacher(session, teacher_id)
    if found is None or not principal.can_see_teacher(found[0], found[1]):
        session.rollback()
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    teacher, school = found
    events, grades = teacher_records(session, teacher_id)
    try:
        deleted = erase_teacher_rows(
            session,
            teacher,
            school,
            progress_contributions(teacher_id, events, catalog),
            _latest_grades(grades),
            key_id=principal.key_id,
            role=principal.role,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("teacher erased", extra={"erasure_rows_deleted": deleted})
    return ErasureResult(teacher_id, datetime.now(UTC), deleted)


def forget_in_memory(
    models: ModelBundle | None, cache: RankingCache | None, teacher_ids: list[str]
) -> int:
    """Drop ``teacher_ids`` from this worker's model and ranking cache; how many it knew."""
    if models is None or not teacher_ids:
        return 0
    forgotten = sum(models.recommender.forget(teacher_id) for teacher_id in teacher_ids)
    if forgotten and cache is not None:
        cache.clear()  # the revision moved anyway; free the erased teacher's entries now
    return forgotten


def forget_erased(engine: Engine, models: ModelBundle) -> int:
    """Clean a freshly loaded model of every erased teacher (before it serves)."""
    with Session(engine) as session:
        _newest, ids = erased_ids_since(session, 0)
    return forget_in_memory(models, None, ids)


async def follow_erasures(
    engine: Engine,
    current: Any,
    cache: RankingCache,
    interval: float,
) -> None:
    """Poll the tombstones every ``interval`` s; forget teachers another worker erased.

    ``current`` returns this worker's bundle (``lambda: registry.current``).
    """

    def newest_since(after: int) -> tuple[int, list[str]]:
        with Session(engine) as session:
            return erased_ids_since(session, after)

    seen, _ = await asyncio.to_thread(newest_since, 2**31 - 1)  # newest only
    while True:
        await asyncio.sleep(interval)
        try:
            newest, ids = await asyncio.to_thread(newest_since, seen)
        except Exception as error:  # the database is briefly unavailable: try again later
            log.warning("cannot read erasures: %s", error)
            continue
        if newest <= seen:
            continue
        seen = newest
        forget_in_memory(current(), cache, ids)
