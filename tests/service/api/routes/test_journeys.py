"""End-to-end journeys over HTTP: a platform, a school team and a teacher.

Each journey uses the real app, the session's trained model and only public endpoints.
"""

from __future__ import annotations

import uuid

from competency_model.plan import Plan
from competency_model.policy import load_policy, validate_plan
from tests.service.conftest import REGION, Keys, World, assert_problem


def test_platform_journey(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    platform = keys.header("platform")
    suffix = uuid.uuid4().hex[:6].upper()
    school_id, teacher_id = f"SJ{suffix}", f"TJ{suffix}"
    # 1. push a school and a teacher
    school = client.put(
        f"/v1/schools/{school_id}",
        headers=platform,
        json={"environment": "blended", "chosen_points": ["A1", "A3", "B2"], "rollout_batch": 2},
    )
    assert school.status_code == 200, school.text
    assert school.json()["region"] == REGION
    teacher = client.put(
        f"/v1/teachers/{teacher_id}",
        headers=platform,
        json={
            "school_id": world.school,
            "stage": "小学",
            "subject": "数学",
            "research_group": "小学数学组",
            "years_of_service": 3,
        },
    )
    assert teacher.status_code == 200, teacher.text
    # 2. push their learning events (replayed once: nothing doubles)
    events = [
        {
            "event_id": f"{suffix}-{i}",
            "teacher_id": teacher_id,
            "event": kind,
            "item_id": "CRS-0001",
            "value": value,
            "timestamp": f"2024-03-0{i + 1}T09:00:00+08:00",
        }
        for i, (kind, value) in enumerate(
            [("enrol", None), ("progress", 0.5), ("complete", None), ("rate", 5)]
        )
    ]
    for expected in ({"accepted": 4, "replayed": 0}, {"accepted": 0, "replayed": 4}):
        pushed = client.post("/v1/events", json={"events": events}, headers=platform)
        assert pushed.status_code == 200, pushed.text
        assert {k: pushed.json()[k] for k in expected} == expected
    # 3. recommendations: the completed course is never recommended again
    recs = client.get(
        f"/v1/teachers/{teacher_id}/recommendations?kind=course&k=5", headers=platform
    )
    assert recs.status_code == 200, recs.text
    body = recs.json()
    assert body["count"] == len(body["data"]) > 0 and body["cold_start"] is True
    assert "CRS-0001" not in {item["item_id"] for item in body["data"]}
    assert all(item["reasons_zh"] for item in body["data"])
    # 4. learning path under the Jiangsu policy validates against that policy
    path = client.get(f"/v1/teachers/{teacher_id}/learning-path?policy=jiangsu", headers=platform)
    assert path.status_code == 200, path.text
    plan = Plan.model_validate({k: v for k, v in path.json().items() if k != "model_version"})
    assert plan.violations == []
    assert validate_plan(plan, load_policy("jiangsu"), school_environment="blended") == []
    assert "CRS-0001" in {item.id for item in plan.items}  # completed hours count
    # 5. region progress sees the new teacher
    progress = client.get(f"/v1/regions/{REGION}/progress", headers=platform)
    assert progress.status_code == 200, progress.text
    assert progress.json()["n_teachers"] >= 1 and progress.json()["policy"] == "jiangsu"


def test_known_teacher_gets_personalised_and_generic_lists(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    platform = keys.header("platform")
    personal = client.get("/v1/teachers/T0000010/recommendations?kind=task&k=5", headers=platform)
    generic = client.get(
        "/v1/teachers/T0000010/recommendations?kind=task&k=5&personalized=false", headers=platform
    )
    assert personal.status_code == generic.status_code == 200
    assert personal.json()["cold_start"] is False
    assert all(item["kind"] in ("practice", "school_research") for item in personal.json()["data"])
    assert set(generic.json()["data"][0]["signals"]) == {"popularity"}


def test_school_journey(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    school = keys.header("school")
    portrait = client.get(f"/v1/schools/{world.school}/portrait", headers=school)
    assert portrait.status_code == 200, portrait.text
    body = portrait.json()
    assert body["scope"] == "school" and body["n_teachers"] >= 1
    assert set(body["heatmap"]) and all(len(column) == 30 for column in body["heatmap"].values())
    plan = client.get(f"/v1/schools/{world.school}/plan", headers=school)
    assert plan.status_code == 200, plan.text
    assert plan.json()["school_id"] == world.school and len(plan.json()["targets"]) >= 3
    teachers = client.get(f"/v1/teachers?school_id={world.school}&limit=2", headers=school)
    assert teachers.status_code == 200 and teachers.json()["count"] == 2
    assert teachers.json()["next_cursor"] is not None


def test_teacher_journey(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    teacher = keys.header("teacher")
    url = f"/v1/teachers/{world.teacher}/questionnaire"
    first = client.post(url, json={"answers": [], "adaptive": True}, headers=teacher)
    assert first.status_code == 200, first.text
    asked = first.json()["next_item"]
    answers = []
    for _ in range(3):  # answer what the adaptive questionnaire asks
        if asked is None:
            break
        value = 1 if asked["kind"] == "scenario" else asked["scale_max"]
        answers.append({"item_id": asked["item_id"], "response": value})
        step = client.post(url, json={"answers": answers[-1:], "adaptive": True}, headers=teacher)
        assert step.status_code == 200, step.text
        assert len(step.json()["points"]) == 30
        asked = step.json()["next_item"]
        assert asked is None or asked["item_id"] not in {a["item_id"] for a in answers}
    diagnosis = client.get(f"/v1/teachers/{world.teacher}/diagnosis", headers=teacher)
    assert diagnosis.status_code == 200
    assert all(0.0 <= p["mastery_probability"] <= 1.0 for p in diagnosis.json()["points"])
    recs = client.get(f"/v1/teachers/{world.teacher}/recommendations?k=3", headers=teacher)
    assert recs.status_code == 200 and recs.json()["count"] == 3


def test_out_of_range_answer_is_rejected(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/teachers/{world.teacher}/questionnaire",
        json={"answers": [{"item_id": "Q001", "response": 9}]},
        headers=keys.header("teacher"),
    )
    body = assert_problem(response, 422)
    assert "Q001" in body["detail"]


def test_non_personalised_list_of_a_new_teacher_reads_nothing_of_them(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    """A teacher newer than the model gets their school's list, not one fitted to their profile."""
    platform = keys.header("platform")
    suffix = uuid.uuid4().hex[:6].upper()
    lists = []
    for n, (stage, subject) in enumerate([("小学", "数学"), ("高中", "物理")]):
        teacher_id = f"TN{suffix}{n}"
        created = client.put(
            f"/v1/teachers/{teacher_id}",
            headers=platform,
            json={"school_id": world.school, "stage": stage, "subject": subject},
        )
        assert created.status_code == 200, created.text
        response = client.get(
            f"/v1/teachers/{teacher_id}/recommendations?k=6&personalized=false", headers=platform
        )
        assert response.status_code == 200, response.text
        assert response.json()["cold_start"] is True
        lists.append(response.json()["data"])
    assert lists[0] == lists[1]
    assert all(set(item["signals"]) == {"popularity"} for item in lists[0])
    assert not any("设计" in reason for item in lists[0] for reason in item["reasons_zh"])
