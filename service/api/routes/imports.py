"""Upload of platform exports (CSV/XLSX) into the database, with the importer's report."""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from competency_model.errors import ImportRowError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.province_store import store_tables
from service.db.models import ImportRun, School, Teacher
from training_data.imports import import_files
from training_data.imports.importer import IMPORT_SUFFIXES

router = APIRouter(prefix="/v1", tags=["imports"])

FilenameQuery = Annotated[
    str,
    Query(
        min_length=5,
        max_length=200,
        pattern=r"^[^/\\\x00]+\.(csv|tsv|txt|xlsx)$",
        description="Name of the uploaded file; its suffix (.csv/.tsv/.txt/.xlsx) picks the parser.",
        examples=["teachers.csv"],
    ),
]


def _known_teachers(session: Any, principal: Any) -> list[str]:
    query = select(Teacher.teacher_id).join(School, School.school_id == Teacher.school_id)
    if principal.role == "platform":
        query = query.where(School.region == principal.scope)
    elif principal.role == "school":
        query = query.where(School.school_id == principal.scope)
    return list(session.scalars(query))


@router.post(
    "/imports",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
    responses={422: {"description": "Unreadable file, or rejected rows with strict=true."}},
)
async def post_import(
    request: Request,
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    filename: FilenameQuery,
    strict: bool = False,
) -> dict[str, Any]:
    """Import one export file (raw body); rows are validated, then written in one transaction.

    Rows the importer rejects are listed in the report and skipped (``strict=true``: any
    rejected row refuses the whole file). Re-importing the same file changes nothing.
    """
    if principal.role == "teacher":
        raise PermissionDenied("teacher keys cannot import data; use a platform or school key")
    body = await request.body()
    if not body:
        raise ImportRowError("the request body is empty; send the file's bytes as the body")
    # Parsing and writing are blocking work: keep them off the event loop.
    return await run_in_threadpool(_import, session, state, principal, filename, strict, body)


def _import(
    session: Any, state: Any, principal: Any, filename: str, strict: bool, body: bytes
) -> dict[str, Any]:
    suffix = FilePath(filename).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ImportRowError(f"file suffix {suffix!r} is not supported; use {IMPORT_SUFFIXES}")
    with tempfile.TemporaryDirectory(prefix="nengli-import-") as tmp:
        path = FilePath(tmp) / filename
        path.write_bytes(body)
        result = import_files(
            [path],
            framework=state.framework,
            catalog=state.catalog,
            known_teacher_ids=_known_teachers(session, principal),
        )
    report = result.report
    if strict and report.rejected:
        raise ImportRowError(
            f"{report.rejected} row(s) of {filename} were rejected and strict=true; nothing was "
            "imported",
            details={"report": report.model_dump(mode="json")},
        )
    counts = store_tables(session, principal, result.tables)
    import_id = secrets.token_hex(8)
    document = report.model_dump(mode="json")
    document.update(
        import_id=import_id,
        filename=filename,
        written=True,
        mode="database",
        inserted=counts["inserted"],
        updated=counts["updated"],
        out_dir=None,
    )
    session.add(
        ImportRun(
            import_id=import_id,
            key_id=principal.key_id,
            table_name=",".join(sorted(result.tables)) or "-",
            filename=filename,
            sha256=hashlib.sha256(body).hexdigest(),
            n_rows=report.accepted,
            report=json.dumps(document, ensure_ascii=False),
            created_at=datetime.now(UTC),
        )
    )
    session.commit()
    return document
