"""Tenancy matrix: role × resource × own/foreign. Foreign (or unknown) is always 404.

"own" means the resource belongs to the key's tenant; "foreign" means it exists but belongs to
another tenant (another region for a platform key, a sibling school for a school key, a colleague
for a teacher key). A 404 for a foreign resource must be indistinguishable from a 404 for an id
that does not exist at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.service.conftest import OTHER_REGION, REGION, Keys, World, assert_problem

ROLES = ("platform", "school", "teacher")


@dataclass(frozen=True)
class Resource:
    """An endpoint of the matrix; ``kind`` says which id it takes."""

    name: str
    method: str
    path: str
    kind: str  # teacher | school | region
    body: str | None = None


RESOURCES = [
    Resource("get_teacher", "GET", "/v1/teachers/{id}", "teacher"),
    Resource("put_teacher", "PUT", "/v1/teachers/{id}", "teacher", body="teacher"),
    Resource("diagnosis", "GET", "/v1/teachers/{id}/diagnosis", "teacher"),
    Resource("questionnaire", "POST", "/v1/teachers/{id}/questionnaire", "teacher", body="answers"),
    Resource(
        "recommendations", "GET", "/v1/teachers/{id}/recommendations?kind=course&k=3", "teacher"
    ),
    Resource("learning_path", "GET", "/v1/teachers/{id}/learning-path?policy=jiangsu", "teacher"),
    Resource("get_school", "GET", "/v1/schools/{id}", "school"),
    Resource("put_school", "PUT", "/v1/schools/{id}", "school", body="school"),
    Resource("school_plan", "GET", "/v1/schools/{id}/plan?policy=jiangsu", "school"),
    Resource("school_portrait", "GET", "/v1/schools/{id}/portrait", "school"),
    Resource("school_pairing", "GET", "/v1/schools/{id}/pairing", "school"),
    Resource("region_progress", "GET", "/v1/regions/{id}/progress", "region"),
    Resource("region_pairing", "GET", "/v1/regions/{id}/pairing", "region"),
]


def _ids(role: str, world: World, own: bool) -> dict[str, str]:
    if role == "platform":
        return {
            "teacher": world.teacher if own else world.foreign_teacher,
            "school": world.school if own else world.foreign_school,
            "region": REGION if own else OTHER_REGION,
        }
    if role == "school":
        return {
            "teacher": world.teacher if own else world.sibling_teacher,
            "school": world.school if own else world.sibling_school,
            "region": REGION,
        }
    return {
        "teacher": world.teacher if own else world.sibling_teacher,
        "school": world.school if own else world.sibling_school,
        "region": REGION,
    }


def _expected_own(role: str, resource: Resource) -> bool:
    """Whether ``role`` may see its own resource of this kind at all."""
    if resource.kind == "region":
        return role == "platform"
    if resource.kind == "school":
        return role in ("platform", "school")
    return True


def _body(resource: Resource, role: str, world: World, own: bool) -> dict[str, object] | None:
    if resource.body == "teacher":
        school = (
            world.school
            if own
            else (world.foreign_school if role == "platform" else world.sibling_school)
        )
        return {
            "school_id": school,
            "stage": "小学",
            "subject": "数学",
            "years_of_service": 8,
            "research_group": "小学数学组",
        }
    if resource.body == "school":
        return {
            "environment": "blended",
            "chosen_points": ["A1", "B2"],
            "urban_rural": "urban",
            "rollout_batch": 1,
            **({"region": REGION} if role != "platform" else {}),
        }
    if resource.body == "answers":
        return {"answers": []}
    return None


def _call(client, resource: Resource, keys: Keys, role: str, world: World, own: bool):  # type: ignore[no-untyped-def]
    target = _ids(role, world, own)[resource.kind]
    return client.request(
        resource.method,
        resource.path.replace("{id}", target),
        json=_body(resource, role, world, own),
        headers=keys.header(role),
    )


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
def test_foreign_resource_is_not_found(
    client, keys: Keys, world: World, role: str, resource: Resource
) -> None:  # type: ignore[no-untyped-def]
    response = _call(client, resource, keys, role, world, own=False)
    body = assert_problem(response, 404)
    assert "not found" in body["detail"]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
def test_own_resource_is_visible(
    client, keys: Keys, world: World, role: str, resource: Resource
) -> None:  # type: ignore[no-untyped-def]
    response = _call(client, resource, keys, role, world, own=True)
    if _expected_own(role, resource):
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, 404)


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_foreign_and_unknown_ids_look_the_same(
    client, keys: Keys, world: World, resource: Resource
) -> None:  # type: ignore[no-untyped-def]
    if resource.method == "PUT":
        pytest.skip("PUT creates unknown ids by design; covered by the foreign test")
    foreign = _call(client, resource, keys, "platform", world, own=False)
    unknown_id = {"teacher": "T5555555", "school": "S555555", "region": "火星"}[resource.kind]
    unknown = client.request(
        resource.method,
        resource.path.replace("{id}", unknown_id),
        json=_body(resource, "platform", world, False),
        headers=keys.header("platform"),
    )
    assert foreign.status_code == unknown.status_code == 404
    foreign_id = _ids("platform", world, False)[resource.kind]
    assert foreign.json()["detail"].replace(foreign_id, "X") == unknown.json()["detail"].replace(
        unknown_id, "X"
    )


@pytest.mark.parametrize("role", ROLES)
def test_lists_only_show_own_tenant(client, keys: Keys, world: World, role: str) -> None:  # type: ignore[no-untyped-def]
    teachers = client.get("/v1/teachers?limit=500", headers=keys.header(role))
    assert teachers.status_code == 200
    seen = {t["teacher_id"] for t in teachers.json()["data"]}
    assert world.teacher in seen and world.foreign_teacher not in seen
    if role != "platform":
        assert world.sibling_teacher not in seen


def test_wrong_or_missing_key_is_401(client) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.get("/v1/competencies"), 401)
    assert_problem(
        client.get("/v1/competencies", headers={"Authorization": "Bearer nl_abc_def"}), 401
    )
    assert_problem(client.get("/v1/competencies", headers={"Authorization": "Basic xyz"}), 401)
