"""Learning-event ingestion from platforms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from competency_model.errors import PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.schemas.events import EventIn, EventsBatch, EventsResult
from service.db.stores.contracts import EventRecord
from service.db.stores.events import RejectedEvent, ingest_events

router = APIRouter(prefix="/v1", tags=["events"])


def _messages(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return out


def parse_events(
    raw_events: list[dict[str, Any]],
) -> tuple[list[tuple[int, EventRecord]], list[RejectedEvent]]:
    """Each event parsed on its own: the records (with their index) and the unparseable ones.

    The batch stays loosely typed in :class:`EventsBatch` so that one bad event is reported by
    its index instead of failing the whole body at once.
    """
    parsed: list[tuple[int, EventRecord]] = []
    rejected: list[RejectedEvent] = []
    for index, raw in enumerate(raw_events):
        try:
            parsed.append((index, EventIn.model_validate(raw).to_record()))
        except ValidationError as error:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            rejected.append(
                RejectedEvent(
                    index=index,
                    event_id=event_id if isinstance(event_id, str) else None,
                    errors=_messages(error),
                )
            )
    return parsed, rejected


@router.post(
    "/events",
    response_model=EventsResult,
    responses={
        409: {"description": "An event_id was reused with other content."},
        422: {"description": "Invalid events, listed by index; nothing stored."},
    },
)
def post_events(
    batch: EventsBatch, session: SessionDep, state: StateDep, principal: CurrentKey
) -> EventsResult:
    """Store a batch of learning events: all or nothing, replays are idempotent."""
    if principal.role == "teacher":
        raise PermissionDenied("teacher keys cannot push events; use a platform or school key")
    parsed, unparsed = parse_events(batch.events)
    result = ingest_events(
        session,
        principal,
        parsed,
        unparsed,
        len(batch.events),
        known_items=state.catalog_item_ids,
        known_points=frozenset(state.framework.codes),
    )
    return EventsResult(
        accepted=result.accepted, replayed=result.replayed, received=result.received
    )
