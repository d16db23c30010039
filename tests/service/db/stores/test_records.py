"""The one definition of a teacher's completed items, and the event record's digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from service.api.schemas.events import EventIn
from service.db.stores.contracts import EventRecord
from service.db.stores.records import completed_items, completion_events


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "teacher_id": ["T1", "T1", "T2", "T1", "T1", "T1"],
            "item_id": ["CRS-0002", "CRS-0001", "CRS-0003", "CRS-0002", "TSK-0001", "CRS-0009"],
            "event": ["complete", "complete", "complete", "complete", "enrol", "complete"],
            "timestamp": pd.to_datetime(
                ["2024-03-02", "2024-03-01", "2024-03-01", "2024-03-05", "2024-03-01", "2024-03-02"]
            ),
        }
    )


def test_completed_items_are_in_completion_order_each_once() -> None:
    done = completion_events(_events(), "T1")
    # Stable: CRS-0002 and CRS-0009 share a day and keep their stored order.
    assert completed_items(done["item_id"]) == ["CRS-0001", "CRS-0002", "CRS-0009"]


def test_completed_items_of_every_teacher_and_of_none() -> None:
    assert set(completed_items(completion_events(_events())["item_id"])) == {
        "CRS-0001",
        "CRS-0002",
        "CRS-0003",
        "CRS-0009",
    }
    assert completion_events(pd.DataFrame()).empty
    assert completed_items([None, "CRS-0001", None, "CRS-0001"]) == ["CRS-0001"]


def _old_digest(event: EventIn) -> str:
    """The digest as ``EventIn`` computed it before the stores had their own record."""
    import hashlib
    import json

    payload = event.model_dump(mode="json")
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


@pytest.mark.parametrize(
    "raw",
    [
        {"event": "complete", "item_id": "CRS-0001"},
        {"event": "progress", "item_id": "CRS-0001", "value": 0.5},
        {"event": "rate", "item_id": "TSK-0001", "value": 4},
        {"event": "assessment", "point": "A1", "grade": "合格"},
    ],
)
@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2024, 3, 1, 0, 0, 0, 123456, tzinfo=UTC),
    ],
)
def test_an_event_record_has_the_digest_the_api_always_stored(
    raw: dict[str, object], moment: datetime
) -> None:
    # Stored events keep their digest: a replay of an event stored before the split must
    # still be recognised, so the record's digest equals the schema's old one.
    event = EventIn.model_validate(
        {"event_id": "evt-1", "teacher_id": "T0000001", "timestamp": moment, **raw}
    )
    record = event.to_record()
    assert isinstance(record, EventRecord)
    assert record.content_hash() == _old_digest(event)
    assert event.content_hash() == record.content_hash()
