"""Learning events as platforms push them (``POST /v1/events``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from service.api.schemas.common import ID_PATTERN, StrictModel
from service.db.stores.contracts import EventKind, EventRecord, GradeLabel

__all__ = ["EventIn", "EventsBatch", "EventsResult"]

MAX_BATCH = 5000
#: Accepted event times: wide enough for any real record, narrow enough that every backend and
#: pandas (nanosecond timestamps, 1677–2262) can hold them in any time zone.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class EventIn(StrictModel):
    """One event. ``value`` is progress 0–1 or a rating 1–5; ``assessment`` carries point+grade."""

    event_id: str = Field(pattern=r"^[\x21-\x7e]{1,128}$", examples=["evt-000001"])
    teacher_id: str = Field(pattern=ID_PATTERN, examples=["T0000001"])
    event: EventKind
    item_id: str | None = Field(default=None, max_length=32, examples=["CRS-0001"])
    value: float | None = Field(default=None, allow_inf_nan=False)
    point: str | None = Field(default=None, max_length=8, examples=["A1"])
    grade: GradeLabel | None = None
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # Platforms in China often send local time without an offset; treat it as UTC+0 only
        # if they say so explicitly, so require an offset instead of guessing.
        if value.tzinfo is None:
            raise ValueError("timestamp needs a UTC offset, e.g. 2024-03-01T08:00:00+08:00")
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not EARLIEST <= utc < LATEST:
            raise ValueError(
                f"timestamp {value.isoformat()} is outside {EARLIEST:%Y-%m-%d} – "
                f"{LATEST:%Y-%m-%d} (UTC); send the real time of the event"
            )
        return utc

    @model_validator(mode="after")
    def _shape(self) -> EventIn:
        if self.event == "assessment":
            if self.point is None or self.grade is None:
                raise ValueError("an assessment event needs 'point' and 'grade'")
            if self.value is not None:
                raise ValueError("an assessment event takes no 'value'")
            return self
        if self.item_id is None:
            raise ValueError(f"a {self.event} event needs 'item_id' (a catalog id)")
        if self.point is not None or self.grade is not None:
            raise ValueError(f"'point' and 'grade' belong to assessment events, not {self.event}")
        if self.event == "progress" and (self.value is None or not 0.0 <= self.value <= 1.0):
            raise ValueError("a progress event needs 'value' between 0 and 1")
        if self.event == "rate" and (self.value is None or not 1.0 <= self.value <= 5.0):
            raise ValueError("a rate event needs 'value' between 1 and 5")
        if self.event in ("enrol", "complete") and self.value is not None:
            raise ValueError(f"a {self.event} event takes no 'value'")
        return self

    def to_record(self) -> EventRecord:
        """The validated event as the stores take it (:class:`EventRecord`)."""
        return EventRecord(
            event_id=self.event_id,
            teacher_id=self.teacher_id,
            event=self.event,
            item_id=self.item_id,
            value=self.value,
            point=self.point,
            grade=self.grade,
            timestamp=self.timestamp,
        )

    def content_hash(self) -> str:
        """Digest of the event's content: a replay must match it exactly."""
        return self.to_record().content_hash()


class EventsBatch(BaseModel):
    """A batch; events stay loosely typed here so each bad one can be reported by index."""

    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class EventsResult(BaseModel):
    """Outcome of an accepted batch: new events and idempotent replays."""

    accepted: int = Field(description="Events stored by this call.")
    replayed: int = Field(description="Events already stored with identical content.")
    received: int
