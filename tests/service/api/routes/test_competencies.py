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
    assert body["verification"]["status"] in ("verified", "weakly_verified", "unverified")
    assert body["code"] == "A1" and "neighbours" in body


def test_graph_lists_nodes_and_edges(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/v1/competencies/graph", headers=keys.header("platform")).json()
    assert len(body["nodes"]) == 30 and body["edges"]
    assert {e["kind"] for e in body["edges"]} <= {"progression", "prerequisite", "related"}


def test_policy_is_served(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/policies/jiangsu", headers=keys.header("platform"))
    assert response.status_code == 200
    assert response.json()["total_hours"] > 0
