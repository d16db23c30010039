"""Column-wise event rows: the same digest and the same rows as one ``EventRecord`` per row.

A replayed event is recognised by its ``content_hash``; if the import's column-wise digest drifted
from :meth:`EventRecord.content_hash` by one byte, every event pushed through the API and then
imported (or imported by an older release) would be refused as a conflict.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from service.db.stores.contracts import EventRecord
from service.db.stores.event_rows import event_columns
from service.db.stores.province import LOCAL_TIMEZONE, _utc

KINDS = ["enrol", "progress", "complete", "rate", "assessment"]
SPECIAL_VALUES = [0.0, 1.0, 0.1, 1e-7, -0.0, 0.5, 2.0, 5.0, 1e16, 123456789.125, float("inf")]
IDS = ["t1", "教师_001", "9007199254740993", "12345678901234567890", 'q"uote', "back\\slash",
       "tab\there", "line\nbreak", "ctl\x01", "é中文ñ", "  spaced  ", ""]  # fmt: skip
ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]


def _per_row(frame: pd.DataFrame, regions: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """The rows as the import built them before: one ``EventRecord`` and digest per row."""
    rows = []
    with warnings.catch_warnings():  # nanoseconds are truncated, as the import truncates them
        warnings.simplefilter("ignore", UserWarning)
        stamps = _utc(frame["timestamp"])
    for record, ts in zip(frame.to_dict("records"), stamps, strict=True):
        value = record.get("value")
        if value is not None and isinstance(value, float) and math.isnan(value):
            value = None
        event = EventRecord(
            event_id=str(record["event_id"]),
            teacher_id=str(record["teacher_id"]),
            event=str(record["event"]),  # type: ignore[arg-type]
            item_id=str(record["item_id"]),
            value=value,
            point=None,
            grade=None,
            timestamp=ts,
        )
        rows.append(
            {
                "tenant": "tenant-甲",
                "region": regions[event.teacher_id],
                "event_id": event.event_id,
                "teacher_id": event.teacher_id,
                "event": event.event,
                "item_id": event.item_id,
                "point": None,
                "value": event.value,
                "grade": None,
                "timestamp": ts,
                "content_hash": event.content_hash(),
                "received_at": now,
            }
        )
    return rows


def _random_stamps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Nanosecond epochs 1992–2100 whose sub-second part is zero, whole ms, whole µs or ns.

    (From 1992: Shanghai kept daylight saving time until 1991, whose skipped and repeated local
    hours both paths refuse alike.)
    """
    seconds = rng.integers(700_000_000, 4_100_000_000, n)
    fraction = rng.integers(0, 1_000_000_000, n)
    kind = rng.integers(0, 4, n)
    fraction = np.where(kind == 0, 0, fraction)
    fraction = np.where(kind == 1, fraction // 1_000_000 * 1_000_000, fraction)
    fraction = np.where(kind == 2, fraction // 1000 * 1000, fraction)
    return seconds * 1_000_000_000 + fraction


def _random_frame(seed: int, n: int, zone: str | None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    teachers = [rng.choice(IDS) + str(i) if rng.random() < 0.3 else f"T{i}" for i in range(40)]
    values = rng.random(n)
    special = rng.random(n)
    values = np.where(special < 0.4, rng.choice(SPECIAL_VALUES, n), values)
    values = np.where(special > 0.85, np.nan, values)
    stamps = pd.to_datetime(_random_stamps(rng, n), unit="ns", utc=True)
    stamps = stamps.tz_localize(None) if zone is None else stamps.tz_convert(zone)
    return pd.DataFrame(
        {
            "event_id": [
                f"{rng.choice(IDS)}-{i}" if rng.random() < 0.2 else f"e{seed}-{i}" for i in range(n)
            ],
            "teacher_id": rng.choice(teachers, n),
            "item_id": [rng.choice(IDS) if rng.random() < 0.2 else f"I{i % 97}" for i in range(n)],
            "event": rng.choice(KINDS, n),
            "value": values,
            "timestamp": stamps,
        }
    )


@pytest.mark.parametrize("zone", [None, *ZONES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_column_digests_and_rows_equal_one_event_record_per_row(
    seed: int, zone: str | None
) -> None:
    frame = _random_frame(seed, 600, zone)
    regions = {t: f"区域-{len(t) % 3}" for t in frame["teacher_id"]}
    now = datetime(2026, 12, 4, 3, 0, 0, 123456, tzinfo=UTC)
    expected = _per_row(frame, regions, now)

    columns = event_columns(frame, "tenant-甲", now, regions, LOCAL_TIMEZONE)

    assert columns.content_hash == [r["content_hash"] for r in expected]
    assert columns.dict_rows() == expected


def test_the_value_column_may_be_absent() -> None:
    frame = _random_frame(3, 50, "UTC").drop(columns=["value"])
    regions = dict.fromkeys(frame["teacher_id"], "r")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    frame_with_none = frame.assign(value=None)

    columns = event_columns(frame, "t", now, regions, LOCAL_TIMEZONE)

    assert columns.content_hash == [
        r["content_hash"] for r in _per_row(frame_with_none, regions, now)
    ]


def test_copy_text_escapes_separators_and_writes_nulls() -> None:
    frame = pd.DataFrame(
        {
            "event_id": ["a\tb", "c\\d"],
            "teacher_id": ["t\n1", "t2"],
            "item_id": ["i\r", "i"],
            "event": ["progress", "enrol"],
            "value": [0.25, np.nan],
            "timestamp": pd.to_datetime(
                ["2026-03-01 09:30:00.5", "2026-03-01 09:30:00"], format="ISO8601"
            ),
        }
    )
    regions = {"t\n1": "r1", "t2": "r2"}
    now = datetime(2026, 1, 1, tzinfo=UTC)

    lines = event_columns(frame, "ten", now, regions, LOCAL_TIMEZONE).copy_text().splitlines()

    assert [line.split("\t") for line in lines] == [
        ["ten", "r1", "a\\tb", "t\\n1", "progress", "i\\r", "\\N", "0.25", "\\N",
         "2026-03-01T01:30:00.500000Z", lines[0].split("\t")[10], now.isoformat()],
        ["ten", "r2", "c\\\\d", "t2", "enrol", "i", "\\N", "\\N", "\\N",
         "2026-03-01T01:30:00Z", lines[1].split("\t")[10], now.isoformat()],
    ]  # fmt: skip
