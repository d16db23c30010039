"""Upload of platform exports (CSV/XLSX) into the database, with the importer's report."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competency_model.errors import ImportRowError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.usecases.imports import import_upload

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
    return await run_in_threadpool(import_upload, session, state, principal, filename, strict, body)


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
