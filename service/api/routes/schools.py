"""Schools: create/replace, read and list within the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Path

from competency_model.errors import FrameworkError, NotFoundError, PermissionDenied
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.schemas.common import (
    ID_PATTERN,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
)
from service.api.schemas.people import SchoolPublic, SchoolUpdate
from service.db.models import School
from service.db.partitions import ensure_region_partitions, follow_school_regions
from service.db.stores.people import schools_page
from service.db.stores.scope import commit_new, visible_school

router = APIRouter(prefix="/v1/schools", tags=["schools"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])


@router.put("/{school_id}", response_model=SchoolPublic)
def put_school(
    body: SchoolUpdate,
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
) -> School:
    """Create or replace a school (idempotent)."""
    existing = session.get(School, school_id)
    if principal.role == "teacher" or (
        existing is not None and not principal.can_see_school(existing)
    ):
        raise NotFoundError(f"school {school_id!r} not found", details={"school_id": school_id})
    region = body.region
    if principal.role == "platform":
        region = region or principal.scope
        if region != principal.scope:
            raise PermissionDenied(
                f"a platform key for {principal.scope!r} cannot write schools of {region!r}"
            )
    elif principal.role == "school":
        if existing is None:
            raise NotFoundError(f"school {school_id!r} not found", details={"school_id": school_id})
        region = region or existing.region
        if region != existing.region:
            raise PermissionDenied("a school key cannot move its school to another region")
    if not region:
        raise FrameworkError("region is required for admin keys", details={"field": "region"})
    unknown = [code for code in body.chosen_points if code not in state.framework.codes]
    if unknown:
        raise FrameworkError(
            f"chosen point {unknown[0]!r} is not in framework {state.framework.name!r}",
            details={"field": "chosen_points", "value": unknown[0]},
        )
    ensure_region_partitions(session, [region])
    moved = existing is not None and existing.region != region
    school = existing or School(school_id=school_id)
    school.region = region
    school.city = body.city
    school.district = body.district
    school.urban_rural = body.urban_rural
    school.environment = body.environment
    school.chosen_points = ";".join(body.chosen_points)
    school.rollout_batch = body.rollout_batch
    school.updated_at = datetime.now(UTC)
    session.add(school)
    if moved:
        session.flush()
        follow_school_regions(session, [school_id])
    if existing is None:
        commit_new(session, School, school_id)
    else:
        session.commit()
    return school


@router.get("/{school_id}", response_model=SchoolPublic)
def get_school(session: SessionDep, principal: CurrentKey, school_id: str = SCHOOL_ID) -> School:
    """Read one school."""
    return visible_school(session, principal, school_id)


@router.get("", response_model=Page[SchoolPublic])
def list_schools(
    session: SessionDep, principal: CurrentKey, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> dict[str, object]:
    """List the schools this key may see, ordered by id."""
    rows = schools_page(session, principal, limit, decode_cursor(cursor))
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "data": page,
        "count": len(page),
        "next_cursor": encode_cursor(page[-1].school_id) if more else None,
    }
