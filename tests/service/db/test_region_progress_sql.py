"""GET /v1/regions/{region}/progress from per-school aggregates equals the pandas arithmetic on
the loaded region, and follows new events and grades at once (trigger-marked stale schools)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from recommender.school_planning.progress import (
    assessment_summary,
    compliance,
    hours_completed,
    rollout_status,
)
from service.db.stores.cohort import load_cohort
from service.usecases.planning import json_rows as _records
from service.usecases.teacher_models import policy_for
from tests.service.conftest import REGION, Keys, World


def _pandas_progress(client, policy_name: str | None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the endpoint answered before 0007: the region loaded into pandas."""
    state = client.app.state.nengli
    policy = policy_for(REGION, policy_name)
    with state.sessions() as session:
        cohort = load_cohort(session, region=REGION)
    hours = compliance(
        hours_completed(cohort.events, state.catalog, policy, cohort.teachers), policy
    )
    return {
        "n_schools": len(cohort.schools),
        "n_teachers": len(cohort.teachers),
        "teachers_started": cohort.events.loc[
            cohort.events["event"] == "enrol", "teacher_id"
        ].nunique(),
        "teachers_compliant": int(hours["compliant"].sum()),
        "mean_hours": float(hours["hours"].mean()),
        "mean_practice_hours": float(hours["practice_hours"].mean()),
        "assessments": assessment_summary(cohort.grades, state.framework.codes).reset_index(),
        "rollout": rollout_status(cohort.schools, policy, cohort.events, cohort.teachers),
    }


def _assert_parity(body: dict[str, Any], expected: dict[str, Any]) -> None:
    for field in ("n_schools", "n_teachers", "teachers_started", "teachers_compliant"):
        assert body[field] == expected[field], field
    for field in ("mean_hours", "mean_practice_hours"):
        assert body[field] == pytest.approx(expected[field]), field
    for table in ("assessments", "rollout"):
        rows = _records(expected[table])
        assert len(body[table]) == len(rows), table
        for got, want in zip(body[table], rows, strict=True):
            assert got.keys() == want.keys()
            for key, value in want.items():
                if isinstance(value, float):
                    assert got[key] == pytest.approx(value), (table, key)
                else:
                    assert got[key] == value, (table, key)


@pytest.mark.parametrize("policy", [None, "national", "sichuan"])
def test_region_progress_equals_the_pandas_arithmetic(  # type: ignore[no-untyped-def]
    client, keys: Keys, world: World, policy: str | None
) -> None:
    params = {"policy": policy} if policy else {}
    response = client.get(
        f"/v1/regions/{REGION}/progress", params=params, headers=keys.header("platform")
    )
    assert response.status_code == 200, response.text
    _assert_parity(response.json(), _pandas_progress(client, policy))


def test_new_completion_and_grade_show_in_the_next_read(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    platform = keys.header("platform")
    before = client.get(f"/v1/regions/{REGION}/progress", headers=platform).json()
    tag = uuid.uuid4().hex[:8]
    events = [
        {
            "event_id": f"agg-{tag}-{n}",
            "teacher_id": world.sibling_teacher,
            "event": event,
            "item_id": item,
            "timestamp": "2024-05-01T08:00:00+08:00",
        }
        for n, (event, item) in enumerate(
            [("enrol", "TSK-0001"), ("complete", "TSK-0001"), ("complete", "CRS-0002")]
        )
    ]
    events.append(
        {
            "event_id": f"agg-{tag}-grade",
            "teacher_id": world.sibling_teacher,
            "event": "assessment",
            "point": "A1",
            "grade": "优秀",
            "timestamp": "2024-05-02T08:00:00+08:00",
        }
    )
    posted = client.post("/v1/events", json={"events": events}, headers=platform)
    assert posted.status_code == 200, posted.text
    after = client.get(f"/v1/regions/{REGION}/progress", headers=platform)
    assert after.status_code == 200
    body = after.json()
    assert body["mean_hours"] > before["mean_hours"]
    _assert_parity(body, _pandas_progress(client, None))
