"""Framework endpoints: points with verification status, graph, policies, pagination."""

from __future__ import annotations

from tests.service.conftest import Keys


def test_competencies_paginate_over_all_points(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    seen, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/competencies", params=params, headers=keys.header("teacher"))
        assert response.status_code == 200
        body = response.json()
        seen += [p["code"] for p in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == client.app.state.nengli.framework.codes
    assert len(seen) == len(set(seen)) == 30


def test_competency_has_verification_status(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/competencies/A1", headers=keys.header("school"))
    assert response.status_code == 200
    body = response.json()
    assert body["verification"]["status"] in ("confirmed", "one_source", "unverified")
    assert body["code"] == "A1" and "neighbours" in body


def test_three_level_status_and_sources_reach_the_api(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    expected = {"A1": ("confirmed", 2), "A6": ("one_source", 1), "A2": ("unverified", 0)}
    for code, (status, n_sources) in expected.items():
        response = client.get(f"/v1/competencies/{code}", headers=keys.header("school"))
        assert response.status_code == 200
        verification = response.json()["verification"]
        assert verification["status"] == status
        assert len(verification["sources"]) == n_sources
    a6 = client.get("/v1/competencies/A6", headers=keys.header("school")).json()
    assert a6["verification"]["context_sources"] == ["S21"]
    assert a6["verification_label"] == "单一来源/one source"
    c4 = client.get("/v1/competencies/C4", headers=keys.header("school")).json()
    assert c4["artifacts"][0]["status"] == "official" and c4["artifacts"][0]["criteria"]["优秀"]


def test_graph_lists_nodes_and_edges(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/v1/competencies/graph", headers=keys.header("platform")).json()
    assert len(body["nodes"]) == 30 and body["edges"]
    assert {e["kind"] for e in body["edges"]} <= {"progression", "prerequisite", "related"}


def test_policy_is_served(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/policies/jiangsu", headers=keys.header("platform"))
    assert response.status_code == 200
    assert response.json()["total_hours"] > 0
