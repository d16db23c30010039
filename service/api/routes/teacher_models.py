"""Per-teacher model endpoints: questionnaire, diagnosis, recommendations, learning path.

Each route checks the tenant first (so a foreign id is 404 even when no model is loaded), then
takes the model bundle current at that moment, and writes an audit entry for the read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from competency_model.catalog import Kind
from competency_model.errors import FrameworkError, NotFoundError
from competency_model.policy import Policy, available_policies, load_policy
from recommender.bundle import ModelBundle
from service.api import modeling
from service.api.deps import CurrentKey, SessionDep, StateDep
from service.api.ranking_cache import recommendation_json
from service.api.records import load_record
from service.api.schemas.common import ID_PATTERN
from service.api.schemas.models import (
    Answer,
    DiagnosisOut,
    QuestionnaireIn,
    QuestionnaireOut,
    RecommendationsOut,
)
from service.api.scope import visible_teacher, visible_teacher_with_completed
from service.api.state import ServiceState
from service.audit import audit_row, record_read
from service.auth import Principal
from service.db.list_reader import stored_list
from service.db.models import Response as StoredResponse

router = APIRouter(prefix="/v1/teachers", tags=["diagnosis & recommendations"])
TEACHER_ID = Path(pattern=ID_PATTERN, examples=["T0000001"])
PolicyQuery = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9_\-]{0,63}$", description="Policy name; default: the region's."),
]


@lru_cache(maxsize=32)
def _cached_policy(name: str) -> Policy:
    return load_policy(name)


def policy_for(region: str, name: str | None) -> Policy:
    """The named policy, or the one whose Chinese label starts with the region, or national."""
    if name is not None:
        if name not in available_policies():
            raise NotFoundError(
                f"policy {name!r} not found; available: {', '.join(available_policies())}",
                details={"policy": name},
            )
        return _cached_policy(name)
    for candidate in available_policies():
        policy = _cached_policy(candidate)
        if region and policy.label_zh.startswith(region):
            return policy
    return _cached_policy("national")


def _check_answers(state: ServiceState, answers: list[Answer]) -> None:
    bank = {item.item_id: item for item in state.item_bank.items}
    for index, answer in enumerate(answers):
        item = bank.get(answer.item_id)
        where = f"answers.{index}"
        if item is None:
            raise FrameworkError(
                f"{where}.item_id: {answer.item_id!r} is not in the item bank",
                details={"field": f"{where}.item_id", "value": answer.item_id},
            )
        low = 0 if item.kind == "scenario" else 1
        if not (low <= answer.response <= item.max_response) or (
            item.kind == "scenario" and answer.response not in (0, 1)
        ):
            allowed = "0 or 1" if item.kind == "scenario" else f"1..{item.max_response}"
            raise FrameworkError(
                f"{where}.response: {answer.response!r} is out of range for {item.item_id} "
                f"({item.kind}); use {allowed}",
                details={"field": f"{where}.response", "value": answer.response},
            )


def _store_answers(session: Session, teacher_id: str, answers: list[Answer]) -> None:
    if not answers:
        return
    now = datetime.now(UTC)
    latest = {answer.item_id: answer.response for answer in answers}  # last answer wins
    rows = [
        {"teacher_id": teacher_id, "item_id": item, "response": value, "answered_at": now}
        for item, value in latest.items()
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StoredResponse).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["teacher_id", "item_id"],
        set_={
            "response": statement.excluded.response,
            "answered_at": statement.excluded.answered_at,
        },
    )
    session.execute(statement)


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
    _check_answers(state, body.answers)
    models = state.registry.require()
    _store_answers(session, teacher_id, body.answers)
    session.commit()
    record = load_record(session, teacher, school)
    diagnosis = modeling.diagnose(models, record)
    next_item = modeling.next_item(models, state, record) if body.adaptive else None
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
        "points": modeling.diagnosis_rows(diagnosis),
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
    diagnosis = modeling.diagnose(models, record)
    record_read(session, principal, "diagnosis", teacher_id=teacher_id, school_id=school.school_id)
    return {
        "teacher_id": teacher_id,
        "model_version": models.version,
        "points": modeling.diagnosis_rows(diagnosis),
    }


# ``async``, and lean on purpose: this is the endpoint platforms call most. A known teacher's
# request reads two indexed rows on one connection, then the batch's precomputed list (one
# primary-key range; the reasons of the k items shown are built from the model, no scoring),
# or, without one, takes the ranking from the RankingCache (one model call on the teacher's
# first request after a retraining), and waits for its audit entry's group commit. Measured in docs/benchmarks.md,
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
    scope, completed = visible_teacher_with_completed(state.engine, principal, teacher_id)
    models = state.registry.require()
    cold = not modeling.is_known(models, teacher_id)
    if cold:
        items = await run_in_threadpool(
            _cold_start_list, state, principal, models, teacher_id, completed, kind, k, personalized
        )
    else:
        listed = (
            _precomputed(state, models, scope.region, teacher_id, kind, k, completed)
            if personalized
            else None
        )
        items = (
            listed
            if listed is not None
            else state.ranking_cache.top(models, teacher_id, kind, personalized, k, set(completed))
        )
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
        "cold_start": cold,
    }
    body = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(
        body[:-1] + b',"data":[' + b",".join(items) + b"]}", media_type="application/json"
    )


def _precomputed(
    state: ServiceState,
    models: ModelBundle,
    region: str,
    teacher_id: str,
    kind: Kind,
    k: int,
    completed: list[str],
) -> list[bytes] | None:
    """The batch's list minus what the teacher completed since; None: rank live instead.

    None when the region serves no lists of this model version, the batch did not rank the
    teacher, or too many of the stored items were completed to fill ``k``.
    """
    done = set(completed)
    stored = stored_list(state.engine, region, models.version, teacher_id, kind, k + len(done))
    kept = [(item, score) for item, score in stored if item not in done][:k]
    if len(kept) < k:
        return None
    items = models.recommender.explain_listed(
        teacher_id, [item for item, _ in kept], [score for _, score in kept]
    )
    return [recommendation_json(item) for item in items] if len(items) == k else None


def _cold_start_list(
    state: ServiceState,
    principal: Principal,
    models: ModelBundle,
    teacher_id: str,
    completed: list[str],
    kind: Kind,
    k: int,
    personalized: bool,
) -> list[bytes]:
    """A teacher newer than the model: ranked from their profile and (if personalised) diagnosis."""
    with state.sessions() as session:
        teacher, school = visible_teacher(session, principal, teacher_id)
        mastery = None
        if personalized:
            record = load_record(session, teacher, school)
            mastery = modeling.mastery_of(modeling.diagnose(models, record))
    items, _ = modeling.recommend(
        models, teacher, school, completed, kind, k, personalized, mastery
    )
    return [recommendation_json(item) for item in items]


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
    chosen = policy_for(school.region, policy)
    models = state.registry.require()
    record = load_record(session, teacher, school)
    mastery = modeling.mastery_of(modeling.diagnose(models, record))
    plan = modeling.learning_path(state, record, mastery, chosen)
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
