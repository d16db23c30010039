"""The dashboard's endpoints: teacher overview, trends, 未达标名单, rollout — scoped, JSON and xlsx."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from recommender.diagnosis.levels import mastery_level
from service.db.models import Event, School
from service.usecases.teacher_overview import informative_reasons
from tests.service.conftest import REGION, Keys, World, assert_problem


def _overview(client, keys: Keys, world: World, role: str = "teacher"):  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/teachers/{world.teacher}/overview", headers=keys.header(role))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_overview_levels_follow_the_one_level_rule(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = _overview(client, keys, world)
    assert len(body["points"]) == 30
    for row in body["points"]:
        assert row["level"] == mastery_level(row["mastery_probability"])
        assert row["level_zh"] in ("已掌握", "待提升", "薄弱")
    assert sum(body["level_counts"].values()) == 30


def test_the_overview_shows_the_same_mastery_as_the_diagnosis(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = _overview(client, keys, world)
    diagnosis = client.get(
        f"/v1/teachers/{world.teacher}/diagnosis", headers=keys.header("teacher")
    ).json()
    same = {r["point"]: r["mastery_probability"] for r in diagnosis["points"]}
    assert {r["point"]: r["mastery_probability"] for r in body["points"]} == pytest.approx(same)


def test_items_have_titles_hours_and_at_most_two_reasons(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = _overview(client, keys, world)
    items = body["courses"] + body["tasks"]
    assert items
    for item in items:
        assert item["title_zh"] and item["title_zh"] != item["item_id"] and item["hours"] > 0
        assert 1 <= len(item["reasons_zh"]) <= 2 and len(item["reasons_en"]) == len(
            item["reasons_zh"]
        )


def test_the_plan_has_dated_weeks_and_never_schedules_completed_items(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = _overview(client, keys, world)
    plan = body["plan"]
    # Every teacher gets a compliant plan (issue 18), so a missing one is a failure, not a skip.
    assert plan is not None, f"no compliant plan for {world.teacher}: {body['plan_problem']}"
    state = client.app.state.nengli
    with state.sessions() as session:
        completed = set(
            session.scalars(
                select(Event.item_id).where(
                    Event.teacher_id == world.teacher, Event.event == "complete"
                )
            )
        )
    assert {row["id"] for row in plan["done"]} <= completed
    scheduled = [item for week in plan["weeks"] for item in week["items"]]
    assert not completed & {item["id"] for item in scheduled}
    assert all(item["done"] for item in plan["done"]) and not any(i["done"] for i in scheduled)
    today = date.fromisoformat(body["as_of"])
    for number, week in enumerate(plan["weeks"], start=1):
        starts = date.fromisoformat(week["starts_on"])
        assert week["week"] == number and starts.weekday() == 0
        assert (date.fromisoformat(week["ends_on"]) - starts).days == 6
        assert week["hours"] == pytest.approx(sum(i["hours"] for i in week["items"]))
    assert date.fromisoformat(plan["weeks"][0]["starts_on"]) <= today
    assert plan["done_hours"] + plan["planned_hours"] == pytest.approx(plan["totals"]["hours"])


def test_informative_reasons_drop_what_every_item_says() -> None:
    rows = [
        {
            "reasons_zh": ["面向小学教师设计", f"完成可计 {h} 学时", extra],
            "reasons_en": ["a", "b", "c"],
        }
        for h, extra in ((1, "属于本校选定的能力点 B3"), (2, "与您相似的教师也常选"))
    ]
    assert informative_reasons(rows) == [
        (["属于本校选定的能力点 B3"], ["c"]),
        (["与您相似的教师也常选"], ["c"]),
    ]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/v1/teachers/{sibling_teacher}/overview", "teacher"),
        ("/v1/teachers/{foreign_teacher}/overview", "platform"),
        ("/v1/schools/{sibling_school}/trends", "school"),
        ("/v1/schools/{school}/trends", "other_platform"),
        ("/v1/schools/{sibling_school}/behind", "school"),
        ("/v1/schools/{school}/behind", "teacher"),
        (f"/v1/regions/{REGION}/behind", "school"),
        (f"/v1/regions/{REGION}/behind", "other_platform"),
        (f"/v1/regions/{REGION}/trends", "other_platform"),
        (f"/v1/regions/{REGION}/rollout", "other_platform"),
        (f"/v1/regions/{REGION}/rollout", "teacher"),
    ],
)
def test_outside_the_scope_is_404(client, keys: Keys, world: World, path: str, role: str) -> None:  # type: ignore[no-untyped-def]
    url = path.format(**{name: getattr(world, name) for name in World.__dataclass_fields__})
    assert_problem(client.get(url, headers=keys.header(role)), 404)


def test_school_trends_add_up_to_the_schools_hours(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    trends = client.get(
        f"/v1/schools/{world.school}/trends", params={"by": "total"}, headers=keys.header("school")
    )
    assert trends.status_code == 200, trends.text
    progress = client.get(
        f"/v1/schools/{world.school}/progress", headers=keys.header("school")
    ).json()
    rows = trends.json()["rows"]
    months = [row["month"] for row in rows]
    assert months == sorted(months) and len(set(months)) == len(months)
    total = sum(row["hours"] for row in rows)
    assert total == pytest.approx(sum(t["hours"] for t in progress["teachers"]))
    if rows:
        assert rows[-1]["cumulative_mean_hours"] == pytest.approx(progress["mean_hours"])


def test_school_trends_by_group_cover_the_groups(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/v1/schools/{world.school}/trends", headers=keys.header("school")).json()
    progress = client.get(
        f"/v1/schools/{world.school}/progress", headers=keys.header("school")
    ).json()
    active = {g["research_group"] for g in progress["groups"] if g["mean_hours"] > 0}
    assert {row["group"] for row in body["rows"]} == active


def test_the_schools_behind_list_matches_its_progress(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    behind = client.get(f"/v1/schools/{world.school}/behind", headers=keys.header("school"))
    assert behind.status_code == 200, behind.text
    progress = client.get(
        f"/v1/schools/{world.school}/progress", headers=keys.header("school")
    ).json()
    assert [r["teacher_id"] for r in behind.json()["data"]] == [
        r["teacher_id"] for r in progress["behind"]
    ]
    assert all(r["reasons_zh"] and r["school_id"] == world.school for r in behind.json()["data"])


def test_the_region_behind_list_names_schools_and_narrows_by_district(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    whole = client.get(f"/v1/regions/{REGION}/behind", headers=keys.header("platform"))
    assert whole.status_code == 200, whole.text
    rows = whole.json()["data"]
    assert rows and all(r["school_id"] and r["reasons_zh"] for r in rows)
    school = client.get(f"/v1/schools/{world.school}", headers=keys.header("admin")).json()
    if school.get("city") and school.get("district"):
        narrow = client.get(
            f"/v1/regions/{REGION}/behind",
            params={"city": school["city"], "district": school["district"]},
            headers=keys.header("platform"),
        ).json()["data"]
        assert {r["teacher_id"] for r in narrow} <= {r["teacher_id"] for r in rows}


def test_rollout_batches_add_up_to_the_region(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/regions/{REGION}/rollout", headers=keys.header("platform"))
    assert response.status_code == 200, response.text
    body = response.json()
    breakdown = client.get(
        f"/v1/regions/{REGION}/breakdown",
        params={"level": "school"},
        headers=keys.header("platform"),
    ).json()["rows"]
    assert sum(r["n_teachers"] for r in body["rows"]) == sum(r["n_teachers"] for r in breakdown)
    assert sum(r["n_schools"] for r in body["rows"]) == len(breakdown)
    shares = [r["actual_cumulative_share"] for r in body["rows"] if r["batch"] is not None]
    assert shares == sorted(shares)


def test_rollout_sums_per_batch_equal_the_schools_of_each_batch(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    # The batches are summed by the database; the oracle adds up the per-school breakdown.
    body = client.get(f"/v1/regions/{REGION}/rollout", headers=keys.header("platform")).json()
    schools = client.get(
        f"/v1/regions/{REGION}/breakdown",
        params={"level": "school"},
        headers=keys.header("platform"),
    ).json()["rows"]
    with client.app.state.nengli.sessions() as session:
        batch_of = dict(
            session.execute(
                select(School.school_id, School.rollout_batch).where(School.region == REGION)
            ).all()
        )
    expected: dict[int | None, dict[str, float]] = {}
    for row in schools:
        sums = expected.setdefault(
            batch_of[row["school_id"]],
            {"n_schools": 0, "n_teachers": 0, "started": 0, "hours": 0.0},
        )
        sums["n_schools"] += 1
        sums["n_teachers"] += row["n_teachers"]
        sums["started"] += row["teachers_started"]
        sums["hours"] += row["mean_hours"] * row["n_teachers"]
    assert {r["batch"] for r in body["rows"]} == set(expected)
    for row in body["rows"]:
        sums = expected[row["batch"]]
        assert row["n_schools"] == sums["n_schools"]
        assert row["n_teachers"] == sums["n_teachers"]
        assert row["teachers_started"] == sums["started"]
        assert row["mean_hours"] == pytest.approx(sums["hours"] / sums["n_teachers"])


@pytest.mark.parametrize(
    ("path", "sheet"),
    [
        ("/v1/schools/{school}/behind", "未达标名单 behind"),
        ("/v1/schools/{school}/trends", "学时趋势 trends"),
        (f"/v1/regions/{REGION}/rollout", "推进批次 rollout"),
        (f"/v1/regions/{REGION}/behind", "未达标名单 behind"),
    ],
)
def test_the_tables_export_to_xlsx(client, keys: Keys, world: World, path: str, sheet: str) -> None:  # type: ignore[no-untyped-def]
    url = path.format(school=world.school)
    response = client.get(url, params={"format": "xlsx"}, headers=keys.header("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == [sheet]
    json_body = client.get(url, headers=keys.header("admin")).json()
    assert book[sheet].max_row - 1 == len(json_body.get("data", json_body.get("rows", [])))


def test_the_school_plan_names_its_items(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/v1/schools/{world.school}/plan", headers=keys.header("school")).json()
    named = {i for ids in body["courses"].values() for i in ids}
    assert named and named <= set(body["items"])
    assert all(body["items"][i]["title_zh"] and body["items"][i]["hours"] > 0 for i in named)
