"""Importing one uploaded platform export (CSV/XLSX) into the database, with its report.

The HTTP edge receives the bytes and the file name; this use case parses them with
``training_data.imports`` under the key's defaults, stores the accepted rows in one transaction
and keeps the report as an :class:`~service.db.models.ImportRun`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from competency_model.errors import ImportRowError
from service.auth import Principal
from service.db.models import ImportRun, School
from service.db.stores.province import store_tables
from service.db.stores.scope import schools_in_scope, teacher_ids_in_scope
from service.observability.metrics import observe_import
from service.state import ServiceState
from training_data.imports import ImportOptions, import_files
from training_data.imports.importer import IMPORT_SUFFIXES

__all__ = ["import_upload"]


def _options(principal: Principal, schools: list[School]) -> ImportOptions:
    """Defaults from the key: a platform key's region, a school key's own school's region."""
    region = principal.scope if principal.role == "platform" else None
    if principal.role == "school" and schools:
        region = schools[0].region
    # Over HTTP a teacher's school must already be stored and visible: reject, never infer.
    return ImportOptions(region=region, region_source="key", missing_schools="reject")


def _disk_name(filename: str, suffix: str) -> str:
    """``filename`` cut to what every file system holds (255 bytes); the report keeps the full name.

    Chinese names are three bytes a character in UTF-8, so 85 characters already fill a name.
    """
    limit = 200 - len(suffix.encode("utf-8"))
    stem = filename[: -len(suffix)] if suffix else filename
    encoded = stem.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore") + suffix


def import_upload(
    session: Session,
    state: ServiceState,
    principal: Principal,
    filename: str,
    strict: bool,
    body: bytes,
) -> dict[str, Any]:
    """Parse, validate and store one file; the import report (``strict``: any rejected row refuses all)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ImportRowError(f"file suffix {suffix!r} is not supported; use {IMPORT_SUFFIXES}")
    schools = schools_in_scope(session, principal)
    with tempfile.TemporaryDirectory(prefix="nengli-import-") as tmp:
        path = Path(tmp) / _disk_name(filename, suffix)
        path.write_bytes(body)
        result = import_files(
            [path],
            framework=state.framework,
            catalog=state.catalog,
            known_teacher_ids=teacher_ids_in_scope(session, principal),
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
    observe_import(",".join(sorted(result.tables)) or "-", report.accepted, report.rejected)
    return document
