"""Per-teacher model endpoints: questionnaire, diagnosis, recommendations, learning path.

Each route checks the tenant first (so a foreign id is 404 even when no model is loaded), then
takes the model bundle current at that moment, and writes an audit entry for the read.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from competency_model.catalog import Kind
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.schemas.common import ID_PATTERN
from service.api.schemas.models import (
    DiagnosisOut,
    QuestionnaireIn,
    QuestionnaireOut,
    RecommendationsOut,
)
from service.audit import audit_row, record_read
from service.db.stores.records import load_record, store_answers
from service.db.stores.scope import visible_teacher, visible_teacher_with_list_async
from service.state import ServiceState
from service.usecases import teacher_models
from service.usecases.precomputed import precomputed_list
from service.usecases.ranking_cache import recommendation_json
from service.usecases.recommendations import Serving, knows, unknown_teacher_list

router = APIRouter(prefix="/v1/teachers", tags=["diagnosis & recommendations"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])
PolicyQuery = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9_\-]{0,63}$", description="Policy name; default: the region's."),
]


@router.post("/{teacher_id}/questionnaire", response_model=QuestionnaireOut)
def answer_questionnaire(
    body: QuestionnaireIn,
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
) -> dict[str, Any]:
    """Store answers; return the updated diagnosis and, in adaptive mode, the next item."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    teacher_models.check_answers(
        state.item_bank, [(answer.item_id, answer.response) for answer in body.answers]
    )
    models = state.registry.require()
    # The last answer to an item wins.
    store_answers(session, teacher_id, {answer.item_id: answer.response for answer in body.answers})
    session.commit()
    record = load_record(session, teacher, school)
    diagnosis = teacher_models.diagnose(models, record)
    next_item = teacher_models.next_item(models, state, record) if body.adaptive else None
    record_read(
        session,
        principal,
        "questionnaire",
        teacher_id=teacher_id,
        school_id=school.school_id,
        detail=f"answers={len(body.answers)}",
    )
    return {
        "teacher_id": teacher_id,
        "model_version": models.version,
        "points": teacher_models.diagnosis_rows(diagnosis),
        "answered": len(record.responses),
        "next_item": next_item,
        "complete": body.adaptive and next_item is None,
    }


@router.get("/{teacher_id}/diagnosis", response_model=DiagnosisOut)
def get_diagnosis(
    session: SessionDep, state: StateDep, principal: CurrentKey, teacher_id: str = TEACHER_ID
) -> dict[str, Any]:
    """Mastery probability, uncertainty and evidence count for every point."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    models = state.registry.require()
    record = load_record(session, teacher, school)
    diagnosis = teacher_models.diagnose(models, record)
    record_read(session, principal, "diagnosis", teacher_id=teacher_id, school_id=school.school_id)
    return {
        "teacher_id": teacher_id,
        "model_version": models.version,
        "points": teacher_models.diagnosis_rows(diagnosis),
    }


# ``async``, and lean on purpose: this is the endpoint platforms call most. A known teacher's
# request reads its tenancy row, completions and stored list (with the batch's reasons) in one
# round trip awaited on the event loop, joins the stored items' JSON when they fill ``k``, else
# takes the ranking from the RankingCache (one model call on the teacher's first request after
# a retraining), joins the kept JSON of the items and waits for its audit entry's group commit. Measured in docs/benchmarks.md,
# section service. A teacher newer than the model is diagnosed first, in the thread pool.
@router.get("/{teacher_id}/recommendations", response_model=RecommendationsOut)
async def get_recommendations(
    request: Request,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
    kind: Kind = "course",
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    personalized: bool = True,
) -> Response:
    """Top-k courses or practice tasks with scores and reasons (``personalized=false``: popularity and policy only)."""
    state: ServiceState = request.app.state.nengli
    # One snapshot of the model for the whole request: the list read is of its version.
    current = state.registry.current
    decision = knows(current.recommender, teacher_id, personalized) if current else None
    listed = (
        (current.version, kind)
        if current is not None and decision is not None
        and decision.mode is Serving.KNOWN and personalized
        else None
    )  # fmt: skip
    # Tenancy first (a foreign id is 404 even when no model is loaded), in one round trip
    # with the completions and the stored list, awaited on the event loop (PostgreSQL; SQLite
    # in a worker thread): the loop serves other requests while this one waits.
    scope, completed, stored = await visible_teacher_with_list_async(
        state.list_statements,
        state.read_engine,
        principal,
        teacher_id,
        listed,
        row_security=state.settings.row_security,
    )
    models = current if current is not None else state.registry.require()
    if decision is None:
        decision = knows(models.recommender, teacher_id, personalized)
    if decision.mode is Serving.KNOWN:
        assert decision.row is not None
        from_lists = (
            precomputed_list(models, teacher_id, k, completed, stored, state.listed_json)
            if listed is not None
            else None
        )
        items = (
            from_lists
            if from_lists is not None
            else state.ranking_cache.top(
                models, teacher_id, decision.row, kind, personalized, k, set(completed)
            )
        )
    else:
        found = await run_in_threadpool(
            unknown_teacher_list, state, principal, models, decision, teacher_id, completed, kind, k
        )
        items = [recommendation_json(item) for item in found]
    await state.audit_batcher.append(
        audit_row(
            principal,
            "recommendations",
            teacher_id=teacher_id,
            school_id=scope.school_id,
            detail=f"kind={kind} k={k} personalized={personalized}",
        )
    )
    head = {
        "teacher_id": teacher_id,
        "kind": kind,
        "personalized": personalized,
        "model_version": models.version,
        "count": len(items),
        "cold_start": decision.cold_start,
    }
    body = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(
        body[:-1] + b',"data":[' + b",".join(items) + b"]}", media_type="application/json"
    )


@router.get("/{teacher_id}/learning-path")
def get_learning_path(
    session: SessionDep,
    state: StateDep,
    principal: CurrentKey,
    teacher_id: str = TEACHER_ID,
    policy: PolicyQuery = None,
) -> dict[str, Any]:
    """A policy-compliant plan: targets, weekly items, hour totals and evidence to submit."""
    teacher, school = visible_teacher(session, principal, teacher_id)
    chosen = teacher_models.policy_for(school.region, policy)
    models = state.registry.require()
    record = load_record(session, teacher, school)
    mastery = teacher_models.mastery_of(teacher_models.diagnose(models, record))
    plan = teacher_models.learning_path(state, record, mastery, chosen)
    record_read(
        session,
        principal,
        "learning_path",
        teacher_id=teacher_id,
        school_id=school.school_id,
        detail=f"policy={chosen.name}",
    )
    body = plan.model_dump(mode="json")
    body["model_version"] = models.version
    return body
