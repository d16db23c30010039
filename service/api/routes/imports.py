"""Upload of platform exports (CSV/XLSX) into the database, with the importer's report."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competency_model.errors import ImportRowError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.db.models import ImportRun, School, Teacher
from service.db.stores.province import store_tables
from training_data.imports import ImportOptions, import_files
from training_data.imports.importer import IMPORT_SUFFIXES

router = APIRouter(prefix="/v1", tags=["imports"])

FILENAME_PATTERN = r"^[^/\\\x00]+\.(csv|tsv|txt|xlsx|xls)$"
FilenameQuery = Annotated[
    str | None,
    Query(
        min_length=5,
        max_length=200,
        pattern=FILENAME_PATTERN,
        description="Name of the uploaded file; its suffix (.csv/.tsv/.txt/.xlsx/.xls) picks the "
        "parser. Required with a raw body; a multipart upload's own file name is used otherwise.",
        examples=["teachers.csv"],
    ),
]
BINARY = {"type": "string", "format": "binary"}


def _visible_schools(session: Any, principal: Any) -> list[School]:
    query = select(School)
    if principal.role == "platform":
        query = query.where(School.region == principal.scope)
    elif principal.role == "school":
        query = query.where(School.school_id == principal.scope)
    elif principal.role != "admin":
        return []
    return list(session.scalars(query))


def _options(principal: Any, schools: list[School]) -> ImportOptions:
    """Defaults from the key: a platform key's region, a school key's own school's region."""
    region = principal.scope if principal.role == "platform" else None
    if principal.role == "school" and schools:
        region = schools[0].region
    # Over HTTP a teacher's school must already be stored and visible: reject, never infer.
    return ImportOptions(region=region, region_source="key", missing_schools="reject")


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
                "text/csv": {"schema": BINARY},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": BINARY
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": BINARY},
                        "required": ["file"],
                    }
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
    filename: FilenameQuery = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Import one export file; rows are validated, then written in one transaction.

    Send the file either as the raw body with ``?filename=teachers.csv``, or as a
    ``multipart/form-data`` field ``file`` (a browser form, ``curl -F file=@teachers.csv``).
    Rows the importer rejects are listed in the report and skipped (``strict=true``: any
    rejected row refuses the whole file). Re-importing the same file changes nothing.
    """
    if principal.role == "teacher":
        raise PermissionDenied("teacher keys cannot import data; use a platform or school key")
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        body, uploaded_name = await _multipart_file(request)
        if filename is None and uploaded_name is not None:
            if not re.fullmatch(FILENAME_PATTERN, uploaded_name):
                raise ImportRowError(
                    f"uploaded file name {uploaded_name!r} is not accepted; use a .csv, .tsv, "
                    ".txt or .xlsx name without path separators, or pass ?filename=",
                    details={"field": "file", "value": uploaded_name},
                )
            filename = uploaded_name
    else:
        body = await request.body()
    if filename is None:
        raise ImportRowError(
            "name the file: ?filename=teachers.csv with a raw body, or upload it as the "
            "multipart field 'file' with a file name",
            details={"field": "filename"},
        )
    if not body:
        raise ImportRowError(
            f"{filename} is empty; send the file's bytes (raw body or multipart field 'file')"
        )
    # Parsing and writing are blocking work: keep them off the event loop.
    return await run_in_threadpool(_import, session, state, principal, filename, strict, body)


async def _multipart_file(request: Request) -> tuple[bytes, str | None]:
    """The bytes and file name of the form's ``file`` field (a 422 problem without one)."""
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ImportRowError(
                "the multipart body has no file field 'file'; send -F file=@teachers.csv",
                details={"field": "file"},
            )
        return await upload.read(), upload.filename
    finally:
        await form.close()


def _disk_name(filename: str, suffix: str) -> str:
    """``filename`` cut to what every file system holds (255 bytes); the report keeps the full name.

    Chinese names are three bytes a character in UTF-8, so 85 characters already fill a name.
    """
    limit = 200 - len(suffix.encode("utf-8"))
    stem = filename[: -len(suffix)] if suffix else filename
    encoded = stem.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore") + suffix


def _import(
    session: Any, state: Any, principal: Any, filename: str, strict: bool, body: bytes
) -> dict[str, Any]:
    suffix = FilePath(filename).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ImportRowError(f"file suffix {suffix!r} is not supported; use {IMPORT_SUFFIXES}")
    schools = _visible_schools(session, principal)
    with tempfile.TemporaryDirectory(prefix="nengli-import-") as tmp:
        path = FilePath(tmp) / _disk_name(filename, suffix)
        path.write_bytes(body)
        result = import_files(
            [path],
            framework=state.framework,
            catalog=state.catalog,
            known_teacher_ids=_known_teachers(session, principal),
            options=_options(principal, schools),
            known_school_ids=[s.school_id for s in schools],
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
