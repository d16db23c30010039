"""Platform exports (CSV/XLSX/XLS, UTF-8/BOM/GBK, Chinese or English headers) → province tables.

Public API: :func:`import_files` (pure: files → :class:`ImportResult` with tables, report and
quarantined rows) and :func:`write_import` (merge into a province directory atomically, in
``reject`` or ``quarantine`` mode). The column mapping and rules are documented in
``docs/data-formats.md``.
"""

from training_data.imports.headers import HEADER_ALIASES, detect_table, map_headers
from training_data.imports.importer import NATURAL_KEYS, ImportResult, import_files
from training_data.imports.options import FileMapping, ImportOptions, MappingFile, load_mapping
from training_data.imports.report import (
    Derivation,
    FileReport,
    ImportReport,
    ImportWarning,
    RejectedRow,
)
from training_data.imports.sources import detect_encoding
from training_data.imports.writer import (
    QUARANTINE_NAME,
    REPORT_NAME,
    existing_school_ids,
    existing_teacher_ids,
    read_existing,
    write_import,
)

__all__ = [
    "HEADER_ALIASES",
    "NATURAL_KEYS",
    "QUARANTINE_NAME",
    "REPORT_NAME",
    "Derivation",
    "FileMapping",
    "FileReport",
    "ImportReport",
    "ImportOptions",
    "ImportResult",
    "ImportWarning",
    "MappingFile",
    "RejectedRow",
    "detect_encoding",
    "detect_table",
    "existing_school_ids",
    "existing_teacher_ids",
    "import_files",
    "load_mapping",
    "map_headers",
    "read_existing",
    "write_import",
]
