"""School-based assessment (校本应用考核): evidence, reviews, e-portfolios and the school view.

Tenancy follows the rest of the API — a teacher key sees its own evidence plus the evidence it
was assigned to peer-review, a school key its school, a platform key its region; anything else
is 404. Rules (evidence validation, review rules, the rating rule, peer assignment, cycle status)
come from :mod:`competency_model.assessment`; see :mod:`service.usecases.assessment_feedback` for what
a final school rating changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from competency_model.assessment import (
    Review,
    check_review,
    check_submission,
    school_export,
    summarize_item,
)
from competency_model.assessment.export import portfolio_html, portfolio_xlsx
from competency_model.catalog import PRACTICE_KINDS
from competency_model.errors import ConflictError, PermissionDenied
from competency_model.plan import Violation
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.routes.teacher_models import PolicyQuery
from service.api.schemas.assessment import (
    EvidenceSubmissionIn,
    InvalidEvidenceError,
    InvalidReviewError,
    ReviewIn,
)
from service.api.schemas.common import ID_PATTERN
from service.audit import record_read
from service.auth import Principal
from service.db.stores.assessment import (
    assign_submission_peers,
    evidence_context,
    load_evidence,
    load_reviews,
    peers_of,
    store_review,
    store_submission,
    submissions_assigned_to,
)
from service.db.stores.scope import visible_school, visible_teacher
from service.usecases.assessment_feedback import finalize_if_rated, point_review
from service.usecases.assessment_portfolio import school_portfolios, teacher_portfolio

router = APIRouter(prefix="/v1", tags=["school-based assessment"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])
SCHOOL_ID = Path(pattern=ID_PATTERN, examples=["S000001"])
EVIDENCE_ID = Path(pattern=ID_PATTERN, examples=["EV-3f9c0d1e2a4b5c6d"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _violations(items: list[Any]) -> list[dict[str, Any]]:
    return [v.model_dump(mode="json") for v in items]


@router.post("/teachers/{teacher_id}/evidence", status_code=201)
def submit_evidence(
    body: EvidenceSubmissionIn,
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
) -> dict[str, Any]:
    """Submit the evidence metadata of one point (validated against the framework); peers are assigned."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    report = check_submission(body.point, body.items, state.framework)
    if body.task_id is not None:
        task = state.catalog.get(body.task_id) if body.task_id in state.catalog_item_ids else None
        if task is None or task.kind not in PRACTICE_KINDS or body.point not in task.points:
            report.violations.append(_task_violation(body.task_id, body.point))
            report.accepted = False
    if not report.accepted:
        found = report.violations + [v for vs in report.item_violations.values() for v in vs]
        raise InvalidEvidenceError(
            f"evidence for {body.point} rejected: {found[0].message_en}"
            + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
            details={
                "violations": _violations(report.violations),
                "item_violations": {
                    str(i): _violations(vs) for i, vs in report.item_violations.items()
                },
                "missing_required": report.missing_required,
            },
        )
    submission, rows = store_submission(
        session, principal, teacher, body.point, body.task_id, body.items
    )
    session.flush()
    reviewers = assign_submission_peers(session, submission)
    session.commit()
    return {
        "submission_id": submission.submission_id,
        "teacher_id": teacher_id,
        "point": submission.point,
        "task_id": submission.task_id,
        "submitted_at": submission.submitted_at.isoformat(),
        "items": [{"evidence_id": r.evidence_id, "artifact": r.artifact} for r in rows],
        "peer_reviewers": reviewers,
        "school_id": school.school_id,
    }


def _task_violation(task_id: str, point: str) -> Violation:
    return Violation(
        rule="task_for_point",
        expected=f"a practice task developing {point}",
        actual=task_id,
        message_zh=f"{task_id} 不是能力点 {point} 的实践任务",
        message_en=f"{task_id!r} is not a practice task of the catalog that develops {point}",
        subject=point,
    )


@router.get("/teachers/{teacher_id}/evidence")
def list_evidence(
    session: SessionDep, state: StateDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> dict[str, Any]:
    """The teacher's submissions (oldest first) with items, peers and the review state."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    submissions, records = load_evidence(session, teacher_ids=[teacher_id])
    peers = peers_of(session, [s.submission_id for s in submissions])
    data = []
    for sub in submissions:
        data.append(
            {
                "submission_id": sub.submission_id,
                "point": sub.point,
                "task_id": sub.task_id,
                "submitted_at": sub.submitted_at.isoformat(),
                "peer_reviewers": peers.get(sub.submission_id, []),
                "items": [
                    r.model_dump(mode="json", exclude={"teacher_id", "point", "submission_id"})
                    for r in records
                    if r.submission_id == sub.submission_id
                ],
                "review": point_review(session, state, sub).model_dump(mode="json"),
            }
        )
    record_read(session, principal, "evidence", teacher_id=teacher_id, school_id=school.school_id)
    return {"teacher_id": teacher.teacher_id, "data": data, "count": len(data)}


@router.get("/teachers/{teacher_id}/review-assignments")
def list_review_assignments(
    session: SessionDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> dict[str, Any]:
    """Evidence this teacher was assigned to peer-review (互评), with their own ratings so far."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    subs = submissions_assigned_to(session, teacher_id)
    _, records = load_evidence(session, teacher_ids=sorted({s.teacher_id for s in subs}))
    wanted = {s.submission_id for s in subs}
    mine = [r for r in records if r.submission_id in wanted]
    reviews = [
        r
        for r in load_reviews(session, [r.evidence_id for r in mine])
        if r.reviewer_id == teacher_id
    ]
    data = [
        {
            **r.model_dump(mode="json"),
            "my_rating": next((v.rating for v in reviews if v.evidence_id == r.evidence_id), None),
        }
        for r in mine
    ]
    record_read(
        session, principal, "review_assignments", teacher_id=teacher_id, school_id=school.school_id
    )
    return {"teacher_id": teacher.teacher_id, "data": data, "count": len(data)}


def _reviewer(principal: Principal, body: ReviewIn) -> str:
    if principal.role == "teacher":
        if body.role == "school":
            raise PermissionDenied("the school rating comes from the school team's key")
        if body.reviewer_id not in (None, principal.scope):
            raise PermissionDenied("a teacher key reviews as its own teacher; drop reviewer_id")
        return str(principal.scope)
    if principal.role == "school":
        if body.role != "school":
            raise PermissionDenied(
                "a school key gives the school team's rating; self and peer reviews come from "
                "the teacher's key or their platform"
            )
        return f"school:{principal.scope}"
    if body.reviewer_id is None:
        if body.role != "school":
            raise InvalidReviewError(
                f"a {principal.role} key reviewing on behalf of a teacher must name reviewer_id"
            )
        return f"{principal.role}:{principal.key_id}"
    return body.reviewer_id


@router.post("/evidence/{evidence_id}/reviews", status_code=201)
def post_review(
    body: ReviewIn,
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    evidence_id: str = EVIDENCE_ID,
) -> dict[str, Any]:
    """Add a self, peer or school rating of one item; a completed school rating is final and fed back."""
    ctx = evidence_context(session, principal, evidence_id)
    reviewer = _reviewer(principal, body)
    review = Review(
        evidence_id=evidence_id,
        reviewer_id=reviewer,
        role=body.role,
        rating=body.rating,
        comment=body.comment,
        created_at=datetime.now(UTC),
    )
    existing = load_reviews(session, [evidence_id])
    found = check_review(
        review, owner_id=ctx.teacher.teacher_id, assigned_peers=ctx.peers, existing=existing
    )
    if found:
        error_type = (
            ConflictError
            if found[0].rule in ("rating_closed", "duplicate_review")
            else InvalidReviewError
        )
        raise error_type(found[0].message_en, details={"violations": _violations(found)})
    store_review(session, review, key_id=principal.key_id)
    session.commit()
    feedback = None
    point = None
    if body.role == "school":
        point_state, feedback = finalize_if_rated(
            session, state, ctx.submission, ctx.teacher, ctx.school
        )
        point = point_state.model_dump(mode="json")
    return {
        "review": review.model_dump(mode="json"),
        "item": summarize_item(evidence_id, [*existing, review]).model_dump(mode="json")
        if principal.role != "teacher" or ctx.teacher.teacher_id == principal.scope
        else None,
        "point_review": point,
        "feedback": feedback,
    }


@router.get("/evidence/{evidence_id}/reviews")
def get_reviews(
    session: SessionDep, principal: CurrentKey, evidence_id: str = EVIDENCE_ID
) -> dict[str, Any]:
    """The item's reviews and summary; an assigned peer sees the item and only their own review."""
    ctx = evidence_context(session, principal, evidence_id)
    reviews = load_reviews(session, [evidence_id])
    owner_view = principal.role != "teacher" or principal.scope == ctx.teacher.teacher_id
    if not owner_view:
        reviews = [r for r in reviews if r.reviewer_id == principal.scope]
    record_read(
        session,
        principal,
        "evidence_reviews",
        teacher_id=ctx.teacher.teacher_id,
        school_id=ctx.school.school_id,
        detail=evidence_id,
    )
    return {
        "evidence": ctx.record.model_dump(mode="json"),
        "peer_reviewers": ctx.peers if owner_view else [],
        "data": [r.model_dump(mode="json") for r in reviews],
        "count": len(reviews),
        "summary": summarize_item(evidence_id, reviews).model_dump(mode="json")
        if owner_view
        else None,
    }


Format = Annotated[Literal["json", "html", "xlsx"], Query(description="json, html or xlsx")]


@router.get("/teachers/{teacher_id}/portfolio", response_model=None)
def get_portfolio(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
    policy: PolicyQuery = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    """The teacher's 电子档案: diagnoses, learning, evidence, reviews, results and cycle status."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    portfolio = teacher_portfolio(session, state, teacher, school, policy)
    record_read(
        session,
        principal,
        "portfolio",
        teacher_id=teacher_id,
        school_id=school.school_id,
        detail=f"format={format}",
    )
    if format == "html":
        return HTMLResponse(portfolio_html(portfolio))
    if format == "xlsx":
        return Response(
            portfolio_xlsx(portfolio),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="portfolio-{teacher_id}.xlsx"'},
        )
    return portfolio.model_dump(mode="json")


@router.get("/schools/{school_id}/assessment", response_model=None)
def get_school_assessment(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    school_id: str = SCHOOL_ID,
    policy: PolicyQuery = None,
    format: Annotated[
        Literal["summary", "json", "html", "xlsx"],
        Query(description="summary (default) or one export file: json, html, xlsx"),
    ] = "summary",
) -> Response | dict[str, Any]:
    """The school's assessment overview, or every teacher's portfolio in one file for the 县区 spot check."""
    school = visible_school(session, principal, school_id)
    portfolios = school_portfolios(session, state, school, policy)
    record_read(
        session, principal, "school_assessment", school_id=school_id, detail=f"format={format}"
    )
    if format != "summary":
        data = school_export(portfolios, school_id, format)
        media = {"json": "application/json", "html": "text/html; charset=utf-8", "xlsx": XLSX}[
            format
        ]
        return Response(
            data,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="assessment-{school_id}.{format}"'
            },
        )
    counts = {"on_track": 0, "at_risk": 0, "complete": 0}
    rows = []
    for p in portfolios:
        counts[p.status.status] += 1
        rows.append(
            {
                "teacher_id": p.teacher.teacher_id,
                "research_group": p.teacher.research_group,
                "status": p.status.status,
                "hours": p.status.process.hours,
                "online_hours": p.status.process.online_hours,
                "practice_hours": p.status.process.practice_hours,
                "results": p.results,
                "missing": [v.rule for v in p.status.missing],
                "rounds_awaiting_school": sum(r.review.status != "final" for r in p.rounds),
                "disagreements": sum(r.review.disagreement for r in p.rounds),
            }
        )
    return {
        "school_id": school_id,
        "policy": portfolios[0].policy if portfolios else policy,
        "teachers": len(rows),
        "status_counts": counts,
        "data": rows,
        "count": len(rows),
    }
