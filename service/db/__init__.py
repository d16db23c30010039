"""Persistence: SQLAlchemy 2.0 models, the engine factory and migrations entry point."""

# The assessment tables live in their own module; importing it here registers them with
# ``Base.metadata`` wherever the database package is used, so the metadata always describes the
# whole migrated schema (``tests/service/db/test_db.py`` compares the two).
from service.db import assessment_models, erasure_models  # noqa: F401
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade_database
from service.db.models import (
    ApiKey,
    AuditEntry,
    Base,
    Event,
    Grade,
    ImportRun,
    Response,
    School,
    Teacher,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Event",
    "Grade",
    "ImportRun",
    "Response",
    "School",
    "Teacher",
    "make_engine",
    "make_session_factory",
    "upgrade_database",
]
