"""Transactional, idempotent ingestion of event batches (``POST /v1/events``).

The rules, in order:

1. every event is validated on its own; a batch with any invalid event is refused as a whole
   (422, each bad event listed with its index and reasons) and nothing is written;
2. an ``event_id`` already stored for this tenant with identical content is a replay: counted,
   not written again; with different content it is a conflict (409, nothing written);
3. the remaining events (and the grades of assessment events) are inserted in one transaction.

Two batches racing on the same new id meet the unique constraint; the loser retries once, and
then sees the winner's row as a replay or a conflict, so the outcome never depends on timing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from competency_model.errors import ConflictError, NengliError
from service.auth import Principal
from service.db.bulk import insert_new_rows
from service.db.models import Event, Grade, School, Teacher
from service.db.stores.contracts import EventRecord

__all__ = [
    "IngestResult",
    "InvalidBatchError",
    "RejectedEvent",
    "event_row",
    "ingest_events",
    "validate_batch",
]

CHUNK = 400


class InvalidBatchError(NengliError):
    """At least one event of a batch is invalid; ``details['rejected']`` lists them."""

    slug = "invalid-events"
    http_status = 422


@dataclass(frozen=True)
class RejectedEvent:
    """Why one event of a batch was refused (``index`` is its place in the batch)."""

    index: int
    event_id: str | None
    errors: list[str]


@dataclass
class IngestResult:
    """Outcome of an accepted batch: events stored now and idempotent replays."""

    accepted: int
    replayed: int
    received: int


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _visible_teachers(session: Session, principal: Principal, ids: set[str]) -> set[str]:
    visible: set[str] = set()
    ordered = sorted(ids)
    for chunk in _chunks(ordered):
        rows = session.execute(
            select(Teacher, School)
            .join(School, School.school_id == Teacher.school_id)
            .where(Teacher.teacher_id.in_(chunk))
        )
        visible.update(t.teacher_id for t, s in rows if principal.can_see_teacher(t, s))
    return visible


def validate_batch(
    session: Session,
    principal: Principal,
    parsed: Sequence[tuple[int, EventRecord]],
    unparsed: Sequence[RejectedEvent],
    received: int,
    known_items: frozenset[str] | None,
    known_points: frozenset[str],
) -> list[EventRecord]:
    """Check a parsed batch against the database; the distinct events or :class:`InvalidBatchError`.

    ``parsed`` holds each well-formed event with its index in the batch, ``unparsed`` the
    events the HTTP edge could not parse at all (``received`` events in all), so one error
    lists every bad event of the batch in order.
    """
    rejected = list(unparsed)
    visible = _visible_teachers(session, principal, {e.teacher_id for _, e in parsed})
    first_by_id: dict[str, tuple[int, str]] = {}
    distinct: list[EventRecord] = []
    for index, event in parsed:
        errors = []
        if event.teacher_id not in visible:
            errors.append(f"teacher_id: teacher {event.teacher_id!r} not found")
        if (
            event.item_id is not None
            and known_items is not None
            and event.item_id not in known_items
        ):
            errors.append(f"item_id: {event.item_id!r} is not in the course/task catalog")
        if event.point is not None and event.point not in known_points:
            errors.append(f"point: {event.point!r} is not a competency point code")
        digest = event.content_hash()
        seen = first_by_id.get(event.event_id)
        if seen is not None and seen[1] != digest:
            errors.append(
                f"event_id: {event.event_id!r} appears at index {seen[0]} with other content"
            )
        if errors:
            rejected.append(RejectedEvent(index=index, event_id=event.event_id, errors=errors))
        elif seen is None:
            first_by_id[event.event_id] = (index, digest)
            distinct.append(event)
    if rejected:
        rejected.sort(key=lambda r: r.index)
        raise InvalidBatchError(
            f"{len(rejected)} of {received} events are invalid (first: index "
            f"{rejected[0].index}: {rejected[0].errors[0]}); nothing was stored",
            details={"rejected": [asdict(r) for r in rejected[:1000]]},
        )
    return distinct


def event_row(tenant: str, event: EventRecord, received_at: datetime, region: str) -> Event:
    """The ``events`` row of a validated event received from ``tenant``.

    ``region`` is the teacher's (``teachers.region``): the row's partition on PostgreSQL.
    """
    return Event(
        tenant=tenant,
        region=region,
        event_id=event.event_id,
        teacher_id=event.teacher_id,
        event=event.event,
        item_id=event.item_id,
        point=event.point,
        value=event.value,
        grade=event.grade,
        timestamp=event.timestamp,
        content_hash=event.content_hash(),
        received_at=received_at,
    )


def _teacher_regions(session: Session, ids: set[str]) -> dict[str, str]:
    """``{teacher_id: region}`` of the (validated, so existing) teachers ``ids``."""
    regions: dict[str, str] = {}
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(Teacher.teacher_id, Teacher.region).where(Teacher.teacher_id.in_(chunk))
        )
        regions.update(dict(list(rows.tuples())))
    return regions


def _store(session: Session, principal: Principal, events: list[EventRecord]) -> IngestResult:
    tenant = principal.tenant
    stored: dict[str, str] = {}
    for chunk in _chunks([e.event_id for e in events]):
        rows = session.execute(
            select(Event.event_id, Event.content_hash).where(
                Event.tenant == tenant, Event.event_id.in_(chunk)
            )
        )
        stored.update(dict(list(rows.tuples())))
    conflicts = [
        e.event_id
        for e in events
        if e.event_id in stored and stored[e.event_id] != e.content_hash()
    ]
    if conflicts:
        raise ConflictError(
            f"event_id {conflicts[0]!r} was already stored with other content "
            f"({len(conflicts)} such ids); use new ids for new events — nothing was stored",
            details={"conflicting_event_ids": conflicts[:1000]},
        )
    now = datetime.now(UTC)
    fresh = [e for e in events if e.event_id not in stored]
    regions = _teacher_regions(session, {e.teacher_id for e in fresh})
    grades: list[dict[str, Any]] = []
    for event in fresh:
        region = regions[event.teacher_id]
        session.add(event_row(tenant, event, now, region))
        if event.event == "assessment":
            assert event.point is not None and event.grade is not None
            grades.append(
                {
                    "teacher_id": event.teacher_id,
                    "region": region,
                    "point": event.point,
                    "grade": event.grade,
                    "assessed_at": event.timestamp,
                }
            )
    session.flush()
    # Two events (other ids) may carry the same grade: the grade is stored once.
    keys = ["teacher_id", "point", "assessed_at", "region"]
    insert_new_rows(session, Grade.__table__, grades, keys)
    session.commit()
    return IngestResult(accepted=len(fresh), replayed=len(events) - len(fresh), received=0)


def ingest_events(
    session: Session,
    principal: Principal,
    parsed: Sequence[tuple[int, EventRecord]],
    unparsed: Sequence[RejectedEvent],
    received: int,
    known_items: frozenset[str] | None,
    known_points: frozenset[str],
) -> IngestResult:
    """Validate and store a batch atomically; see the module docstring for the rules."""
    events = validate_batch(
        session, principal, parsed, unparsed, received, known_items, known_points
    )
    for attempt in range(2):
        try:
            result = _store(session, principal, events)
            result.received = received
            return result
        except IntegrityError:
            session.rollback()
            if attempt == 1:
                raise
    raise AssertionError("unreachable")
