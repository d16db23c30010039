"""Platform exports (CSV/XLSX, UTF-8/BOM/GBK, Chinese or English headers) → province tables.

Public API: :func:`import_files` (pure: files → :class:`ImportResult` with tables, report and
quarantined rows) and :func:`write_import` (merge into a province directory atomically, in
``reject`` or ``quarantine`` mode). The column mapping and rules are documented in
``docs/data-formats.md``.
"""

from training_data.imports.headers import HEADER_ALIASES, detect_table, map_headers
from training_data.imports.importer import (
    NATURAL_KEYS,
    FileReport,
    ImportReport,
    ImportResult,
    RejectedRow,
    import_files,
)
from training_data.imports.sources import detect_encoding
from training_data.imports.writer import (
    QUARANTINE_NAME,
    REPORT_NAME,
    existing_teacher_ids,
    read_existing,
    write_import,
)

__all__ = [
    "HEADER_ALIASES",
    "NATURAL_KEYS",
    "QUARANTINE_NAME",
    "REPORT_NAME",
    "FileReport",
    "ImportReport",
    "ImportResult",
    "RejectedRow",
    "detect_encoding",
    "detect_table",
    "existing_teacher_ids",
    "import_files",
    "map_headers",
    "read_existing",
    "write_import",
]
