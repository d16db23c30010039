"""Per-teacher use cases over the diagnosis and path models: questionnaire, diagnosis, plan.

The routes of ``/v1/teachers/{id}/…``, the assessment use cases and the CLI all diagnose a
teacher, pick a policy and build a learning path through these functions, so every door gives
the same conversions (naive Beijing time, DataFrames to JSON rows, completed items counted).
Recommendations and the known / cold-start / non-personalised decision live beside them in
:mod:`service.usecases.recommendations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from competency_model.errors import FrameworkError, NotFoundError
from competency_model.item_bank import ItemBank
from competency_model.plan import Plan
from competency_model.policy import Policy, available_policies, load_policy
from recommender.bundle import ModelBundle
from recommender.paths import build_learning_path
from service.db.stores.province import LOCAL_TIMEZONE
from service.db.stores.records import TeacherRecord, completion_events
from service.state import ServiceState

__all__ = [
    "DIAGNOSIS_COLUMNS",
    "check_answers",
    "diagnose",
    "diagnosis_rows",
    "learning_path",
    "mastery_of",
    "next_item",
    "policy_for",
]

DIAGNOSIS_COLUMNS = [
    "point",
    "mastery_probability",
    "sd",
    "evidence_count",
    "insufficient_evidence",
]


def _local(moment: datetime) -> pd.Timestamp:
    """Naive Beijing time, the convention of the province tables the models were fitted on."""
    return pd.Timestamp(moment).tz_convert(LOCAL_TIMEZONE).tz_localize(None)


def diagnose(models: ModelBundle, record: TeacherRecord) -> pd.DataFrame:
    """Per-point diagnosis of one teacher from their answers, grades and completed items."""
    grades = [
        {"point": g["point"], "grade": g["grade"], "assessed_at": _local(g["assessed_at"])}
        for g in record.grades
    ]
    done = completion_events(record.events)
    completed = (
        []
        if done.empty
        else [
            {"item_id": str(item), "timestamp": _local(when)}
            for item, when in zip(done["item_id"], done["timestamp"], strict=True)
        ]
    )
    frame = models.diagnosis.diagnose_teacher(
        record.responses,
        grades,
        completed,
        teacher_id=record.teacher.teacher_id,
        school_environment=record.school.environment,
        research_group=record.teacher.research_group,
        as_of=_local(datetime.now(UTC)),
    )
    return frame.reset_index(drop=True)[DIAGNOSIS_COLUMNS]


def next_item(
    models: ModelBundle, state: ServiceState, record: TeacherRecord
) -> dict[str, Any] | None:
    """The adaptive questionnaire's next item for the stored answers (None: stop asking)."""
    item_id = models.diagnosis.next_item(record.responses)
    if item_id is None:
        return None
    item = state.item_bank.get(item_id)
    return {
        "item_id": item.item_id,
        "kind": item.kind,
        "stem_zh": item.stem_zh,
        "options_zh": list(item.options_zh),
        "scale_max": item.scale_max,
        "points": list(item.points),
    }


def mastery_of(diagnosis: pd.DataFrame) -> dict[str, float]:
    """``{point: mastery_probability}`` from a diagnosis frame."""
    return dict(
        zip(diagnosis["point"], diagnosis["mastery_probability"].astype(float), strict=True)
    )


def diagnosis_rows(diagnosis: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows of a diagnosis frame (numpy scalars converted)."""
    rows = []
    for row in diagnosis.itertuples(index=False):
        rows.append(
            {
                "point": str(row.point),
                "mastery_probability": float(row.mastery_probability),
                "sd": float(row.sd),
                "evidence_count": int(row.evidence_count),
                "insufficient_evidence": bool(row.insufficient_evidence),
            }
        )
    return rows


def learning_path(
    state: ServiceState, record: TeacherRecord, mastery: dict[str, float], policy: Policy
) -> Plan:
    """A policy-compliant plan for the teacher (raises InfeasibleError with violations)."""
    return build_learning_path(
        record.teacher.teacher_id,
        mastery,
        record.school.environment,
        policy,
        state.catalog,
        state.framework,
        chosen_points=record.chosen_points,
        completed=record.completed,
        stage=record.teacher.stage,
        subject=record.teacher.subject,
        graph=state.graph,
    )


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


def check_answers(item_bank: ItemBank, answers: Sequence[tuple[str, float]]) -> None:
    """Refuse ``(item_id, response)`` answers outside the item bank or its response scale.

    The error names the answer's place (``answers.{index}``), as the request body spells it.
    """
    bank = {item.item_id: item for item in item_bank.items}
    for index, (item_id, response) in enumerate(answers):
        item = bank.get(item_id)
        where = f"answers.{index}"
        if item is None:
            raise FrameworkError(
                f"{where}.item_id: {item_id!r} is not in the item bank",
                details={"field": f"{where}.item_id", "value": item_id},
            )
        low = 0 if item.kind == "scenario" else 1
        if not (low <= response <= item.max_response) or (
            item.kind == "scenario" and response not in (0, 1)
        ):
            allowed = "0 or 1" if item.kind == "scenario" else f"1..{item.max_response}"
            raise FrameworkError(
                f"{where}.response: {response!r} is out of range for {item.item_id} "
                f"({item.kind}); use {allowed}",
                details={"field": f"{where}.response", "value": response},
            )
