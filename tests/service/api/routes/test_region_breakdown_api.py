"""GET /v1/regions/{region}/breakdown: SQL aggregates equal the Python arithmetic, scoped."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from recommender.school_planning.progress import compliance, hours_completed
from service.db.stores.cohort import load_cohort
from service.usecases.teacher_models import policy_for
from tests.service.conftest import REGION, Keys, World, assert_problem


def _python_figures(client, school_ids: list[str]) -> dict[str, tuple[int, int, float]]:  # type: ignore[no-untyped-def]
    """Teachers, compliant teachers and mean hours per school, by the pandas arithmetic."""
    state = client.app.state.nengli
    policy = policy_for(REGION, None)
    figures = {}
    with state.sessions() as session:
        for school_id in school_ids:
            cohort = load_cohort(session, school_id=school_id)
            checked = compliance(
                hours_completed(cohort.events, state.catalog, policy, cohort.teachers), policy
            )
            figures[school_id] = (
                len(checked),
                int(checked["compliant"].sum()),
                float(checked["hours"].mean()),
            )
    return figures


def test_school_level_figures_equal_the_python_arithmetic(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/regions/{REGION}/breakdown",
        params={"level": "school"},
        headers=keys.header("platform"),
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert rows and all(row["school_id"] for row in rows)
    expected = _python_figures(client, [row["school_id"] for row in rows])
    for row in rows:
        teachers, compliant, mean_hours = expected[row["school_id"]]
        assert (row["n_teachers"], row["n_compliant"]) == (teachers, compliant)
        assert row["mean_hours"] == pytest.approx(mean_hours)
    assert world.foreign_school not in {row["school_id"] for row in rows}


def test_levels_add_up_and_drill_down_narrows(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    header = keys.header("platform")
    get = lambda **params: client.get(  # noqa: E731
        f"/v1/regions/{REGION}/breakdown", params=params, headers=header
    ).json()["rows"]
    cities, districts, schools = get(level="city"), get(level="district"), get(level="school")
    total = sum(row["n_teachers"] for row in schools)
    assert sum(row["n_teachers"] for row in cities) == total
    assert sum(row["n_teachers"] for row in districts) == total
    assert sum(row["n_schools"] for row in cities) == len(schools)
    city = cities[0]["city"]
    inside = get(level="school", city=city)
    assert {row["city"] for row in inside} == {city}
    assert sum(row["n_teachers"] for row in inside) == cities[0]["n_teachers"]


@pytest.mark.parametrize("role", ["other_platform", "school", "teacher"])
def test_only_the_regions_own_keys_see_it(client, keys: Keys, role: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/regions/{REGION}/breakdown", headers=keys.header(role))
    assert_problem(response, 404)


def test_a_bad_level_is_a_422_problem(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/regions/{REGION}/breakdown", params={"level": "street"}, headers=keys.header("admin")
    )
    assert response.status_code == 422


def test_the_breakdown_exports_to_xlsx(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    header = keys.header("platform")
    rows = client.get(f"/v1/regions/{REGION}/breakdown", headers=header).json()["rows"]
    response = client.get(
        f"/v1/regions/{REGION}/breakdown", params={"format": "xlsx"}, headers=header
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet.cell(1, 1).value == "市 / city"
    assert sheet.max_row - 1 == len(rows)
