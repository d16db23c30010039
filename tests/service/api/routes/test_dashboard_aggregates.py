"""The dashboards read stored aggregates: keyset pages of the 未达标名单, the streamed export, the
Chongqing §三(一) cycle flag, and stored mastery refreshed only where a school's rows changed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from competency_model.policy import load_policy
from recommender.school_planning import attach_teachers, mastery_matrix
from recommender.school_planning.portrait import build_portrait
from service.db.models import Event
from service.db.scale_models import MasteryDirty, TeacherMastery
from service.db.stores.cohort import load_cohort, local_now
from tests.service.conftest import REGION, Keys, World


def _get(client, keys: Keys, path: str, role: str = "platform", **params):  # type: ignore[no-untyped-def]
    response = client.get(path, params=params, headers=keys.header(role))
    assert response.status_code == 200, response.text
    return response.json()


def _all_pages(client, keys: Keys, path: str, limit: int, **params):  # type: ignore[no-untyped-def]
    rows, after, pages = [], None, 0
    while True:
        extra = {"after": after} if after else {}
        body = _get(client, keys, path, limit=limit, **params, **extra)
        rows += body["data"]
        pages += 1
        after = body["next_after"]
        if after is None:
            return rows, body["count"], pages


def test_keyset_pages_add_up_to_the_whole_list_in_order(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    path = f"/v1/regions/{REGION}/behind"
    whole = _get(client, keys, path, limit=5000)
    assert whole["next_after"] is None and len(whole["data"]) == whole["count"] > 7
    rows, count, pages = _all_pages(client, keys, path, limit=7)
    assert count == whole["count"] and pages == -(-count // 7)
    assert [r["teacher_id"] for r in rows] == [r["teacher_id"] for r in whole["data"]]
    order = [(-r["hours_missing"], r["teacher_id"]) for r in rows]
    assert order == sorted(order) and len({r["teacher_id"] for r in rows}) == len(rows)


def test_a_bad_cursor_is_a_problem_not_a_crash(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/regions/{REGION}/behind",
        params={"after": "not a cursor"},
        headers=keys.header("platform"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_streamed_export_holds_every_behind_teacher(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    count = _get(client, keys, f"/v1/regions/{REGION}/behind", limit=1)["count"]
    response = client.get(
        f"/v1/regions/{REGION}/behind", params={"format": "xlsx"}, headers=keys.header("platform")
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet.max_row == count + 1  # the header, then one row per teacher


def _ended(batch_year: int, cycle_years: int, today: date) -> bool:
    return date(batch_year + cycle_years, 9, 1) <= today


@pytest.mark.parametrize("policy", ["chongqing", "jiangsu"])
def test_the_cycle_flag_marks_non_compliant_teachers_of_an_ended_cycle(
    client, keys: Keys, world: World, policy: str
) -> None:  # type: ignore[no-untyped-def]
    chosen = load_policy(policy)
    body = _get(client, keys, f"/v1/schools/{world.school}/progress", "school", policy=policy)
    batch = body["rollout_batch"]
    year = load_policy("jiangsu").rollout[batch - 1].year  # the region's schedule
    ended = _ended(year, chosen.cycle_years, local_now().date())
    for row in body["teachers"]:
        assert row["cycle_ended_short"] == (ended and not row["compliant"]), row
        credit = "周期学分审核视为不合格" in row["reasons_zh"]
        assert credit == (row["cycle_ended_short"] and chosen.cycle_credit_required)
    flagged = sum(r["cycle_ended_short"] for r in body["teachers"])
    assert body["n_cycle_ended_short"] == flagged
    assert body["cycle_credit_required"] == chosen.cycle_credit_required
    behind = _get(client, keys, f"/v1/schools/{world.school}/behind", "school", policy=policy)
    assert sum(r["cycle_ended_short"] for r in behind["data"]) == flagged


def test_region_counts_of_ended_cycles_agree_with_the_breakdown(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    params = {"policy": "chongqing"}
    region = _get(client, keys, f"/v1/regions/{REGION}/progress", **params)
    rows = _get(client, keys, f"/v1/regions/{REGION}/breakdown", level="school", **params)["rows"]
    assert region["teachers_cycle_ended_short"] == sum(r["n_cycle_ended_short"] for r in rows)
    assert region["cycle_credit_required"] is True
    school = _get(client, keys, f"/v1/schools/{world.school}/progress", "school", **params)
    mine = next(r for r in rows if r["school_id"] == world.school)
    assert mine["n_cycle_ended_short"] == school["n_cycle_ended_short"]


def test_the_teacher_overview_says_where_the_cycle_stands(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = _get(
        client, keys, f"/v1/teachers/{world.teacher}/overview", "teacher", policy="chongqing"
    )
    cycle = body["cycle"]
    assert cycle["cycle_starts_on"] == "2020-09-01" and cycle["cycle_ends_on"] == "2025-09-01"
    short = date.fromisoformat(cycle["cycle_ends_on"]) <= date.fromisoformat(body["as_of"])
    assert cycle["cycle_ended_short"] == (short and not cycle["compliant"])
    assert bool(cycle["note_zh"]) == cycle["cycle_ended_short"]


def test_a_completion_moves_the_teacher_in_the_list_at_once(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    path = f"/v1/schools/{world.school}/progress"
    before = {r["teacher_id"]: r for r in _get(client, keys, path, "school")["teachers"]}
    state = client.app.state.nengli
    with state.sessions() as session:
        done = set(
            session.scalars(
                select(Event.item_id).where(
                    Event.teacher_id == world.teacher, Event.event == "complete"
                )
            )
        )
    item = next(i for i in state.catalog if i.item_id not in done and i.hours > 0)
    event = {
        "event_id": f"agg-{datetime.now(UTC).timestamp()}",
        "teacher_id": world.teacher,
        "event": "complete",
        "item_id": item.item_id,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    posted = client.post("/v1/events", json={"events": [event]}, headers=keys.header("admin"))
    assert posted.status_code == 200, posted.text
    with state.sessions() as session:  # the trigger marked the school's stored mastery stale
        assert session.get(MasteryDirty, world.school) is not None
    after = {r["teacher_id"]: r for r in _get(client, keys, path, "school")["teachers"]}
    assert after[world.teacher]["hours"] == pytest.approx(
        before[world.teacher]["hours"] + item.hours
    )
    month = local_now().strftime("%Y-%m")
    trends = _get(client, keys, f"/v1/schools/{world.school}/trends", "school", by="total")
    assert any(r["month"] == month and r["hours"] >= item.hours for r in trends["rows"])


def _stored(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        rows = session.execute(select(TeacherMastery.teacher_id, TeacherMastery.mastery))
        return {str(teacher): str(mastery) for teacher, mastery in rows.all()}


def test_the_portrait_reads_stored_mastery_and_rediagnoses_only_a_changed_school(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    path = f"/v1/schools/{world.school}/portrait"
    first = _get(client, keys, path, "school")
    stored = _stored(client)
    state = client.app.state.nengli
    with state.sessions() as session:
        cohort = load_cohort(session, school_id=world.school)
        assert set(cohort.teachers["teacher_id"]) <= set(stored)
        assert (
            session.scalar(
                select(func.count())
                .select_from(MasteryDirty)
                .where(MasteryDirty.school_id == world.school)
            )
            == 0
        )
    # The stored rows give the portrait a per-request diagnosis gives.
    models = state.registry.require()
    diagnosis = models.diagnosis.diagnose(cohort, as_of=local_now())
    mastery = attach_teachers(mastery_matrix(diagnosis, state.framework.codes), cohort.teachers)
    direct = build_portrait("school", world.school, mastery, cohort.schools, state.framework.codes)
    assert first["model_version"] == models.version and first["n_teachers"] == direct.n_teachers
    expected = pd.DataFrame(direct.to_dict()["heatmap"]).astype(float)
    got = pd.DataFrame(first["heatmap"]).astype(float).loc[expected.index, expected.columns]
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-5, nan_ok=True)
    # A repeat reads the rows; a new answer marks the school and only it is diagnosed again.
    _get(client, keys, path, "school")
    assert _stored(client) == stored
    sibling = _get(client, keys, f"/v1/schools/{world.sibling_school}/portrait", "admin")
    assert sibling["model_version"] == models.version
    kept = {t: m for t, m in _stored(client).items() if t not in set(cohort.teachers["teacher_id"])}
    with state.sessions() as session:
        session.add(MasteryDirty(school_id=world.school, region=REGION))  # 0011: with its region
        session.commit()
    _get(client, keys, path, "school")
    again = _stored(client)
    assert {t: again[t] for t in kept} == kept
    with state.sessions() as session:
        assert session.get(MasteryDirty, world.school) is None
