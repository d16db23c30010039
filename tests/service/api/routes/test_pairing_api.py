"""结对帮扶 over HTTP: region-wide pairs for a platform, a school's own pairs for a school team."""

from __future__ import annotations

from tests.service.conftest import REGION, Keys, World, assert_problem


def test_platform_sees_every_pair_of_its_region(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/regions/{REGION}/pairing", headers=keys.header("platform"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region"] == REGION and body["pairs"], body
    for pair in body["pairs"]:
        assert pair["weak_school"] != pair["partner_school"]
        assert pair["complementarity"] >= 0
    partners = {(p["weak_school"], p["partner_school"]) for p in body["pairs"]}
    assert all((m["weak_school"], m["partner_school"]) in partners for m in body["mentors"])


def test_other_region_platform_gets_404(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/regions/{REGION}/pairing", headers=keys.header("other_platform"))
    assert_problem(response, 404)


def test_school_sees_only_its_pairs_and_no_foreign_mentor_ids(
    client, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/schools/{world.school}/pairing", headers=keys.header("school"))
    assert response.status_code == 200, response.text
    body = response.json()
    for pair in body["pairs"]:
        assert world.school in (pair["weak_school"], pair["partner_school"])
    for mentor in body["mentors"]:
        if mentor["partner_school"] != world.school:
            assert mentor["mentor_teacher_id"] is None
        else:
            assert mentor["mentor_teacher_id"]


def test_school_key_cannot_read_a_sibling_schools_pairing(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/schools/{world.sibling_school}/pairing", headers=keys.header("school")
    )
    assert_problem(response, 404)
