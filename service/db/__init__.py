"""Persistence: SQLAlchemy 2.0 models, the engine factory and migrations entry point."""

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
