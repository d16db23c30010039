"""Tables of the school-based assessment (校本应用考核): evidence metadata, peer assignments, reviews.

Only metadata is stored — the artifact type, a title, a link or platform file reference, the
clip duration, the lesson and class — never the file itself. Reviews are append-only (database
triggers refuse UPDATE and DELETE, see migration 0002), so a school's final rating can be
revised only by adding a new rating, and the history stays auditable.

The schema is owned by Alembic (``service/migrations/versions/0002_assessment.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.models import Base, UTCDateTime

__all__ = ["EvidenceItemRow", "EvidenceReviewRow", "EvidenceSubmission", "PeerAssignmentRow"]


class EvidenceSubmission(Base):
    """One teacher's evidence package for one point (a resubmission is a new row)."""

    __tablename__ = "evidence_submissions"
    __table_args__ = (Index("ix_evidence_submissions_teacher", "teacher_id"),)

    submission_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    teacher_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("teachers.teacher_id", ondelete="CASCADE")
    )
    school_id: Mapped[str] = mapped_column(String(32), index=True)
    point: Mapped[str] = mapped_column(String(32))
    #: The practice task (catalog ``TSK-…``) the evidence comes from, when known.
    task_id: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(32))
    #: The school's final point result once every item is rated (latest revision).
    final_result: Mapped[str | None] = mapped_column(String(8))
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EvidenceItemRow(Base):
    """Metadata of one evidence item of a submission."""

    __tablename__ = "evidence_items"
    __table_args__ = (Index("ix_evidence_items_submission", "submission_id"),)

    evidence_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("evidence_submissions.submission_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    artifact: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    media: Mapped[str] = mapped_column(String(16))
    link: Mapped[str | None] = mapped_column(String(2048))
    file_ref: Mapped[str | None] = mapped_column(String(512))
    duration_minutes: Mapped[float | None] = mapped_column(Float)
    lesson: Mapped[str | None] = mapped_column(String(200))
    class_name: Mapped[str | None] = mapped_column(String(100))


class PeerAssignmentRow(Base):
    """A colleague assigned to peer-review a submission (互评)."""

    __tablename__ = "peer_assignments"
    __table_args__ = (Index("ix_peer_assignments_reviewer", "reviewer_id"),)

    submission_id: Mapped[str] = mapped_column(
        String(32),
        ForeignKey("evidence_submissions.submission_id", ondelete="CASCADE"),
        primary_key=True,
    )
    reviewer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("teachers.teacher_id", ondelete="CASCADE"), primary_key=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvidenceReviewRow(Base):
    """One rating of one evidence item (append-only; the latest school rating is final)."""

    __tablename__ = "evidence_reviews"
    __table_args__ = (Index("ix_evidence_reviews_evidence", "evidence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("evidence_items.evidence_id", ondelete="RESTRICT")
    )
    reviewer_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(8))
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The API key that wrote the review (who, for the audit).
    key_id: Mapped[str] = mapped_column(String(32))
