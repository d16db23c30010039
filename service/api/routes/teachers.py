"""Teachers: create/replace, read (audited), list within the caller's scope, erase (PIPL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from competency_model.errors import NotFoundError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.schemas.common import (
    ID_PATTERN,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
)
from service.api.schemas.erasure import ErasurePublic
from service.api.schemas.people import TeacherPublic, TeacherUpdate
from service.audit import record_read
from service.db.models import Teacher
from service.db.stores.people import teachers_page
from service.db.stores.scope import commit_new, visible_school, visible_teacher
from service.usecases.erasure import erase_teacher, forget_in_memory

router = APIRouter(prefix="/v1/teachers", tags=["teachers"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])


@router.put("/{teacher_id}", response_model=TeacherPublic)
def put_teacher(
    body: TeacherUpdate, session: SessionDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> Teacher:
    """Create or replace a teacher's school context (idempotent; school keys only replace)."""
    existing = session.get(Teacher, teacher_id)
    if existing is not None:
        visible_teacher(session, principal, teacher_id)
    elif principal.role in ("teacher", "school"):
        # Teacher ids are registered by the region's platform (or an admin), never by a school:
        # otherwise "created" versus "404" would tell a school which ids exist elsewhere.
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    if principal.role == "teacher":
        assert existing is not None
        if body.school_id != existing.school_id:
            raise PermissionDenied("a teacher key cannot move the teacher to another school")
        school = visible_teacher(session, principal, teacher_id)[1]
    else:
        school = visible_school(session, principal, body.school_id)
    teacher = existing or Teacher(teacher_id=teacher_id)
    teacher.school_id = body.school_id
    # The school's region; a move to another region's school carries the teacher's rows along
    # (the (region, teacher_id) foreign keys cascade).
    teacher.region = school.region
    teacher.stage = body.stage
    teacher.subject = body.subject
    teacher.years_of_service = body.years_of_service
    teacher.research_group = body.research_group
    teacher.updated_at = datetime.now(UTC)
    session.add(teacher)
    if existing is None:
        commit_new(session, Teacher, teacher_id)
    else:
        session.commit()
    return teacher


@router.get("/{teacher_id}", response_model=TeacherPublic)
def get_teacher(
    session: SessionDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> Teacher:
    """Read one teacher (audited)."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    record_read(
        session, principal, "read_teacher", teacher_id=teacher_id, school_id=school.school_id
    )
    return teacher


@router.get("", response_model=Page[TeacherPublic])
def list_teachers(
    session: SessionDep,
    principal: CurrentKey,
    school_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> dict[str, object]:
    """List the teachers this key may see (optionally of one school), ordered by id."""
    if school_id is not None and principal.role != "teacher":
        visible_school(session, principal, school_id)
    rows = teachers_page(session, principal, school_id, limit, decode_cursor(cursor))
    page = rows[:limit]
    more = len(rows) > limit
    record_read(session, principal, "list_teachers", school_id=school_id, detail=f"n={len(page)}")
    return {
        "data": page,
        "count": len(page),
        "next_cursor": encode_cursor(page[-1].teacher_id) if more else None,
    }


@router.delete("/{teacher_id}", response_model=ErasurePublic)
def delete_teacher(
    session: SessionDep, state: StateDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> dict[str, object]:
    """Erase a teacher: personal rows and model state go at once, progress counts stay."""
    result = erase_teacher(session, principal, teacher_id, state.catalog)
    forget_in_memory(state.registry.current, state.ranking_cache, [teacher_id])
    return result.to_dict()
