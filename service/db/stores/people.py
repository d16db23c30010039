"""Schools and teachers as the API lists them: one page in the key's scope, ordered by id."""

from __future__ import annotations

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.db.models import School, Teacher
from service.db.stores.scope import in_key_region_or_school

__all__ = ["schools_page", "teachers_page"]


def schools_page(
    session: Session, principal: Principal, limit: int, after: str | None
) -> list[School]:
    """Up to ``limit + 1`` schools this key may see with ids after ``after`` (the extra one
    tells the caller there is a next page)."""
    query = in_key_region_or_school(
        select(School).order_by(School.school_id).limit(limit + 1), principal
    )
    if principal.role == "teacher":
        query = query.where(false())
    if after is not None:
        query = query.where(School.school_id > after)
    return list(session.scalars(query))


def teachers_page(
    session: Session,
    principal: Principal,
    school_id: str | None,
    limit: int,
    after: str | None,
) -> list[Teacher]:
    """Up to ``limit + 1`` teachers this key may see (of ``school_id`` if given), ids after ``after``."""
    query = in_key_region_or_school(
        select(Teacher)
        .join(School, School.school_id == Teacher.school_id)
        .order_by(Teacher.teacher_id)
        .limit(limit + 1),
        principal,
    )
    if principal.role == "teacher":
        query = query.where(Teacher.teacher_id == principal.scope)
    if school_id is not None:
        query = query.where(Teacher.school_id == school_id)
    if after is not None:
        query = query.where(Teacher.teacher_id > after)
    return list(session.scalars(query))
