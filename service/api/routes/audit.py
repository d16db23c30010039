"""Read-audit query and export for a region administrator (PIPL art. 55–56 accountability)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from competency_model.errors import NengliError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep
from service.api.schemas.audit import AuditEntryPublic
from service.api.schemas.common import (
    ID_PATTERN,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
)
from service.audit import record_read
from service.db.stores.audit_reads import AuditFilter, audit_page

router = APIRouter(prefix="/v1/audit", tags=["audit"])
CSV_COLUMNS = ["id", "at", "key_id", "role", "action", "teacher_id", "school_id", "detail"]


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet never runs as a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _after(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    if not raw.isdigit():
        raise NengliError("cursor is not valid; pass the next_cursor of the previous page")
    return int(raw)


@router.get(
    "/reads",
    response_model=Page[AuditEntryPublic],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON page or CSV export."}},
)
def list_reads(
    session: SessionDep,
    principal: CurrentKey,
    since: Annotated[datetime | None, Query(description="From (inclusive, ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Until (exclusive, ISO 8601).")] = None,
    actor: Annotated[str | None, Query(pattern=ID_PATTERN, description="Key id.")] = None,
    teacher: Annotated[str | None, Query(pattern=ID_PATTERN, description="Teacher id.")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Any:
    """Who read which teacher's data, in the caller's region, oldest first (paged)."""
    if principal.role not in ("platform", "admin"):
        raise PermissionDenied(
            f"the read audit needs a platform (region) or admin key, not a {principal.role} key"
        )
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise NengliError(f"{name} needs a timezone, e.g. 2026-12-01T00:00:00+08:00")
    where = AuditFilter(
        region=principal.scope if principal.role == "platform" else None,
        since=since,
        until=until,
        actor=actor,
        teacher=teacher,
    )
    entries, more = audit_page(session, where, limit, _after(cursor))
    next_cursor = encode_cursor(str(entries[-1].id)) if more and entries else None
    record_read(
        session,
        principal,
        "audit_export",
        detail=f"n={len(entries)} format={format} actor={actor} teacher={teacher}",
    )
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            writer.writerow([_cell(getattr(entry, column)) for column in CSV_COLUMNS])
        headers = {"Content-Disposition": 'attachment; filename="audit-reads.csv"'}
        if next_cursor:
            headers["X-Next-Cursor"] = next_cursor
        return Response(
            "\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers
        )
    return {"data": entries, "count": len(entries), "next_cursor": next_cursor}
