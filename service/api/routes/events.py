"""Learning-event ingestion from platforms."""

from __future__ import annotations

from fastapi import APIRouter

from competency_model.errors import PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.ingest import ingest_events
from service.api.schemas.events import EventsBatch, EventsResult

router = APIRouter(prefix="/v1", tags=["events"])


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
    return ingest_events(
        session,
        principal,
        batch.events,
        known_items=state.catalog_item_ids,
        known_points=frozenset(state.framework.codes),
    )
