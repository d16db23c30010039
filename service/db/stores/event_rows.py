"""Event rows of an imported table, built column-wise: the import's hot loop.

Building an :class:`~service.db.stores.contracts.EventRecord` per row and asking it for its
``content_hash`` (a pydantic dump, ``json.dumps`` and SHA-256) cost ~74 µs an event — hours at
60 million. Here every column is converted once per slice (timestamps to UTC, values to their JSON
text, strings escaped only where a character needs it) and the key-sorted JSON is formatted
directly, so the digest is byte-for-byte the one ``EventRecord.content_hash`` computes (a test
compares both over seeded random events). On PostgreSQL the rows leave as ``COPY`` text, never as
Python dicts or datetimes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EventColumns", "event_columns"]

#: Characters ``json.dumps(..., ensure_ascii=False)`` escapes inside a string.
_JSON_SPECIAL = re.compile(r'[\x00-\x1f"\\]')
#: Characters ``COPY … FROM STDIN`` (text format) reads as escapes or separators.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True, slots=True)
class EventColumns:
    """One slice of an events table as stored, column by column (all lists of one length).

    ``timestamp_text`` and ``value_text`` are the JSON texts the digest hashes (UTC ISO 8601
    ``…Z`` with microseconds only when non-zero; ``repr`` of the float or ``null``), which
    PostgreSQL also reads as ``timestamptz`` and ``double precision``; ``value`` holds ``None``
    for a missing value.
    """

    tenant: str
    received_at: datetime
    region: list[str]
    event_id: list[str]
    teacher_id: list[str]
    event: list[str]
    item_id: list[str]
    value: list[float | None]
    value_text: list[str]
    timestamp: pd.Series
    timestamp_text: list[str]
    content_hash: list[str]

    def __len__(self) -> int:
        return len(self.event_id)

    def dict_rows(self) -> list[dict[str, Any]]:
        """The rows as ``events`` insert dicts (the SQLite path, which checks hashes per chunk)."""
        stamps = list(self.timestamp.dt.to_pydatetime())
        return [
            {
                "tenant": self.tenant,
                "region": region,
                "event_id": event_id,
                "teacher_id": teacher_id,
                "event": event,
                "item_id": item_id,
                "point": None,
                "value": value,
                "grade": None,
                "timestamp": stamp,
                "content_hash": digest,
                "received_at": self.received_at,
            }
            for region, event_id, teacher_id, event, item_id, value, stamp, digest in zip(
                self.region,
                self.event_id,
                self.teacher_id,
                self.event,
                self.item_id,
                self.value,
                stamps,
                self.content_hash,
                strict=True,
            )
        ]

    def copy_text(self) -> str:
        """The rows as ``COPY`` text, in :data:`service.db.event_merge.EVENT_COLUMNS` order."""
        tenant = _copy_escaped([self.tenant])[0]
        received = self.received_at.isoformat()
        values = ["\\N" if v == "null" else v for v in self.value_text]
        lines = [
            f"{tenant}\t{region}\t{event_id}\t{teacher_id}\t{event}\t{item_id}\t\\N\t{value}\t\\N"
            f"\t{stamp}\t{digest}\t{received}\n"
            for region, event_id, teacher_id, event, item_id, value, stamp, digest in zip(
                _copy_escaped(self.region),
                _copy_escaped(self.event_id),
                _copy_escaped(self.teacher_id),
                _copy_escaped(self.event),
                _copy_escaped(self.item_id),
                values,
                self.timestamp_text,
                self.content_hash,
                strict=True,
            )
        ]
        return "".join(lines)


def _copy_escaped(strings: list[str]) -> list[str]:
    """``strings`` escaped for ``COPY`` text; one regex over the joined column when none needs it."""
    if not _COPY_SPECIAL.search("".join(strings)):
        return strings
    return [s.translate(_COPY_ESCAPES) for s in strings]


def _json_inner(strings: list[str]) -> list[str]:
    """Each string as ``json.dumps(…, ensure_ascii=False)`` writes it, without the quotes."""
    if not _JSON_SPECIAL.search("".join(strings)):
        return strings
    return [
        json.dumps(s, ensure_ascii=False)[1:-1] if _JSON_SPECIAL.search(s) else s for s in strings
    ]


def _as_strings(series: pd.Series) -> list[str]:
    """``str(value)`` of every cell, as the per-row import did (``None`` becomes ``"None"``)."""
    return [str(v) for v in series.tolist()]


def _utc_microseconds(series: pd.Series, local_timezone: str) -> pd.Series:
    """Timestamps in UTC, truncated to microseconds as ``Timestamp.to_pydatetime`` truncates.

    A naive timestamp is local time (``local_timezone``); an aware one keeps its instant.
    """
    stamps = pd.to_datetime(series)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(local_timezone)
    return stamps.dt.tz_convert(UTC).dt.floor("us")


def _timestamp_text(stamps: pd.Series) -> list[str]:
    """ISO 8601 as pydantic writes an aware UTC datetime: ``…T…Z``, ``.ffffff`` only if non-zero."""
    naive = stamps.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    full = np.datetime_as_string(naive, unit="us")
    whole = (naive.astype(np.int64) % 1_000_000) == 0
    return [
        f"{text[:19]}Z" if is_whole else f"{text}Z"
        for text, is_whole in zip(full.tolist(), whole.tolist(), strict=True)
    ]


def _value_json(values: np.ndarray) -> tuple[list[str], list[float | None]]:
    """JSON text of each value (``null`` for NaN) and the value itself (``None`` for NaN).

    Formatting goes through ``json.dumps`` once per distinct bit pattern — progress and rating
    values repeat, and ``-0.0`` keeps its sign as the per-row digest kept it.
    """
    floats = np.ascontiguousarray(values, dtype=np.float64)
    bits, inverse = np.unique(floats.view(np.int64), return_inverse=True)
    distinct = bits.view(np.float64).tolist()
    texts = ["null" if v != v else json.dumps(v) for v in distinct]
    plain: list[float | None] = [None if v != v else v for v in distinct]
    order = inverse.reshape(-1).tolist()
    return [texts[i] for i in order], [plain[i] for i in order]


def event_columns(
    frame: pd.DataFrame,
    tenant: str,
    received_at: datetime,
    regions: dict[str, str],
    local_timezone: str,
) -> EventColumns:
    """The stored columns of one slice of a normalised events table (see the module docstring).

    ``regions`` maps every teacher of ``frame`` to its region (checked visible by the caller).
    """
    event_id = _as_strings(frame["event_id"])
    teacher_id = _as_strings(frame["teacher_id"])
    event = _as_strings(frame["event"])
    item_id = _as_strings(frame["item_id"])
    if "value" in frame.columns:
        value_text, value = _value_json(frame["value"].to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        value_text, value = ["null"] * len(frame), [None] * len(frame)
    stamps = _utc_microseconds(frame["timestamp"], local_timezone)
    stamp_text = _timestamp_text(stamps)
    sha256 = hashlib.sha256
    digests = [
        sha256(
            (
                f'{{"event": "{kind}", "event_id": "{eid}", "grade": null, "item_id": "{item}", '
                f'"point": null, "teacher_id": "{tid}", "timestamp": "{ts}", "value": {val}}}'
            ).encode()
        ).hexdigest()
        for kind, eid, item, tid, ts, val in zip(
            _json_inner(event),
            _json_inner(event_id),
            _json_inner(item_id),
            _json_inner(teacher_id),
            stamp_text,
            value_text,
            strict=True,
        )
    ]
    return EventColumns(
        tenant=tenant,
        received_at=received_at,
        region=[regions[t] for t in teacher_id],
        event_id=event_id,
        teacher_id=teacher_id,
        event=event,
        item_id=item_id,
        value=value,
        value_text=value_text,
        timestamp=stamps,
        timestamp_text=stamp_text,
        content_hash=digests,
    )
