"""Tables of the service database.

Only what the models need is stored: identifiers, school context, answers, grades and learning
events. No personal names, phone numbers or ID-card numbers are ever accepted, so a leak of this
database reveals pseudonymous learning records only.

The schema is owned by Alembic (``service/migrations``); these classes must match the latest
revision, and ``tests/service/db/test_db.py`` checks that they do.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; attach a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every table."""

    type_annotation_map = {datetime: UTCDateTime}


class School(Base):
    """A school as pushed by a platform (``PUT /v1/schools/{id}``) or imported."""

    __tablename__ = "schools"
    __table_args__ = (
        # The target of the aggregates' (region, school_id) foreign keys (migration 0011).
        Index("uq_schools_region_school", "region", "school_id", unique=True),
    )

    school_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), index=True)
    city: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    urban_rural: Mapped[str | None] = mapped_column(String(8))
    environment: Mapped[str] = mapped_column(String(16))
    chosen_points: Mapped[str] = mapped_column(String(256), default="")
    rollout_batch: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Teacher(Base):
    """A teacher's school context; deliberately without a name.

    ``region`` is the region of the teacher's school, copied so that the tables that grow with
    teachers can carry it (and be partitioned by it on PostgreSQL, migration 0008); every write
    path sets it, and a school that changes region rewrites its teachers' (see
    :func:`service.db.partitions.follow_school_regions`).
    """

    __tablename__ = "teachers"
    __table_args__ = (
        # The target of the region-carrying foreign keys of responses, grades and events.
        Index("uq_teachers_region_teacher", "region", "teacher_id", unique=True),
    )

    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    school_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("schools.school_id", ondelete="RESTRICT"), index=True
    )
    region: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(32))
    years_of_service: Mapped[int | None] = mapped_column(Integer)
    research_group: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _teacher_key(table: str) -> ForeignKeyConstraint:
    """``(region, teacher_id) → teachers``: a teacher moving region moves these rows with it."""
    return ForeignKeyConstraint(
        ["region", "teacher_id"],
        ["teachers.region", "teachers.teacher_id"],
        name=f"fk_{table}_teacher",
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


class Response(Base):
    """The latest answer of a teacher to one questionnaire item.

    The key includes ``region`` (the partition key on PostgreSQL, migration 0008); a teacher has
    one region, so it is as unique as ``(teacher_id, item_id)``.
    """

    __tablename__ = "responses"
    __table_args__ = (_teacher_key("responses"),)

    teacher_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    response: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Grade(Base):
    """A school's assessment of one point (优秀/合格/不合格).

    On PostgreSQL the primary key is ``(id, region)`` (a partitioned table's keys include the
    partition key); ``id`` alone comes from one sequence and identifies the row here.
    """

    __tablename__ = "grades"
    __table_args__ = (
        Index("ix_grades_teacher", "teacher_id"),
        # The natural key: concurrent identical imports store each grade once (0004, 0008).
        Index(
            "uq_grades_teacher_point_at_region",
            "teacher_id",
            "point",
            "assessed_at",
            "region",
            unique=True,
        ),
        _teacher_key("grades"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(64))
    teacher_id: Mapped[str] = mapped_column(String(32))
    point: Mapped[str] = mapped_column(String(8))
    grade: Mapped[str] = mapped_column(String(8))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One learning event; ``(tenant, event_id)`` makes client replays idempotent.

    ``tenant`` is the key scope that sent the event (``platform:江苏``), so two platforms can
    use the same event ids without colliding and without learning of each other's events.
    ``content_hash`` detects a reused id carrying different content (409). The unique key
    includes ``region`` (the partition key on PostgreSQL); the content hash covers the teacher,
    so a replay of an event always falls in the same region and meets the key.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("uq_events_tenant_event_id_region", "tenant", "event_id", "region", unique=True),
        Index("ix_events_teacher", "teacher_id"),
        # A teacher's completed items from the index alone (migration 0015): the recommendation
        # request reads them on every call.
        Index(
            "ix_events_completed",
            "teacher_id",
            "item_id",
            "region",
            postgresql_where=text("event = 'complete'"),
            sqlite_where=text("event = 'complete'"),
        ),
        _teacher_key("events"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(64))
    tenant: Mapped[str] = mapped_column(String(96))
    event_id: Mapped[str] = mapped_column(String(128))
    teacher_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str | None] = mapped_column(String(32))
    point: Mapped[str | None] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(8))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """An API key; only the SHA-256 of the secret is stored, the token is shown once.

    Lifecycle (migration 0008): a key may expire (``expires_at``); a rotation replaces the
    secret and may keep the previous one valid for a grace period (``previous_secret_hash``
    until ``previous_valid_until``); ``last_used_at`` is written at most once a minute per key
    per worker by :class:`service.auth.KeyCache`, so it is accurate to about a minute.
    """

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    """Append-only record of who read which teacher's data (database triggers forbid edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_teacher", "teacher_id"), Index("ix_audit_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    teacher_id: Mapped[str | None] = mapped_column(String(32))
    school_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class ModelReload(Base):
    """An admin's ``POST /v1/admin/reload``: every worker loads the model directory again.

    Workers are separate processes, each with its own model in memory; the request reaches one
    of them, which records it here, and the others follow when they next poll this table.
    """

    __tablename__ = "model_reloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImportRun(Base):
    """One ``POST /v1/imports`` call: its report, written in the same transaction as the rows."""

    __tablename__ = "imports"

    import_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(Integer)
    report: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RetentionRun(Base):
    """One ``nengli retention apply`` on one table: rows older than ``horizon`` were deleted.

    The audit log's delete trigger admits only rows older than the latest audit horizon
    recorded here, so the log stays append-only for everything retention has not reached.
    """

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(32))
    horizon: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
