"""What the stores accept: plain records, so no store depends on an HTTP schema.

The HTTP edge parses and validates a request (``service.api.schemas``) and hands the stores an
:class:`EventRecord`; an import of province tables builds the same record from a row. Both
therefore compute the same :meth:`EventRecord.content_hash`, which is what makes a replayed
event (from either door) recognisable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import TypeAdapter

__all__ = ["EventKind", "EventRecord", "GradeLabel"]

EventKind = Literal["enrol", "progress", "complete", "rate", "assessment"]
GradeLabel = Literal["优秀", "合格", "不合格"]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One learning event as stored: validated already, with a timezone-aware timestamp.

    ``value`` is progress 0–1 or a rating 1–5; an ``assessment`` carries ``point`` and
    ``grade`` instead of ``item_id``.
    """

    event_id: str
    teacher_id: str
    event: EventKind
    item_id: str | None
    value: float | None
    point: str | None
    grade: GradeLabel | None
    timestamp: datetime

    def content_hash(self) -> str:
        """Digest of the event's content: a replay must match it exactly.

        The JSON is pydantic's (``mode="json"``), key-sorted, so the digest of an event pushed
        to ``POST /v1/events`` equals the digest of the same event imported from a table.
        """
        payload = _JSON.dump_python(self, mode="json")
        return hashlib.sha256(
            json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()


# Built once: constructing the serializer costs far more than one event's digest.
_JSON: TypeAdapter[EventRecord] = TypeAdapter(EventRecord)
