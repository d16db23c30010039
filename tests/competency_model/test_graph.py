"""Graph queries: feasibility, ancestry, chains, smoothing weights and topological order."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.errors import FrameworkError
from competency_model.framework import ENVIRONMENTS, ORDERING_KINDS, default_framework
from competency_model.graph import CompetencyGraph

GRAPH = CompetencyGraph(default_framework())


@pytest.mark.parametrize(
    ("environment", "count", "letters"),
    [("multimedia", 13, {"A"}), ("blended", 23, {"A", "B"}), ("smart", 30, {"A", "B", "C"})],
)
def test_feasible_points_per_environment(environment: str, count: int, letters: set[str]) -> None:
    points = GRAPH.feasible_points(environment)
    assert len(points) == count
    assert {c[0] for c in points} == letters


def test_feasible_sets_are_nested() -> None:
    a, ab, abc = (set(GRAPH.feasible_points(e)) for e in ("A", "B", "C"))
    assert a < ab < abc


def test_custom_gating_is_respected() -> None:
    only_own = {"multimedia": ["multimedia"], "blended": ["blended"], "smart": ["smart"]}
    assert len(GRAPH.feasible_points("blended", gating=only_own)) == 10


def test_graph_has_one_node_per_point_and_typed_edges() -> None:
    assert GRAPH.graph.number_of_nodes() == 30
    kinds = {d["kind"] for _, _, d in GRAPH.graph.edges(data=True)}
    assert kinds == {"progression", "prerequisite", "related"}


def test_prerequisites_and_ancestors() -> None:
    assert GRAPH.prerequisites("A12") == ["A11"]
    assert GRAPH.ancestors("A12") == ["A10", "A11"]
    assert "A12" in GRAPH.descendants("A10")


def test_unknown_code_in_query_is_named() -> None:
    with pytest.raises(FrameworkError, match="'X1'"):
        GRAPH.ancestors("X1")


def test_progression_chains_stay_in_one_dimension_and_climb_environments() -> None:
    chains = GRAPH.progression_chains()
    fw = default_framework()
    assert ["A1", "B1", "C1"] in chains["learner_analysis"]
    for dimension, paths in chains.items():
        for path in paths:
            assert len(path) >= 2
            assert {fw.point(c).dimension for c in path} == {dimension}
            levels = [ENVIRONMENTS.index(fw.point(c).environment) for c in path]
            assert levels == sorted(set(levels))


def test_neighbour_weights_are_symmetric_and_positive() -> None:
    for code in default_framework().codes:
        for other, weight in GRAPH.neighbour_weights(code).items():
            assert 0 < weight <= 1
            assert GRAPH.neighbour_weights(other)[code] == weight


def test_adjacency_matrix_matches_neighbour_weights() -> None:
    matrix = GRAPH.adjacency_matrix()
    fw = default_framework()
    assert matrix.shape == (30, 30) and np.allclose(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 0)
    i = fw.index("A11")
    assert matrix[i, fw.index("A12")] == GRAPH.neighbour_weights("A11")["A12"]


def test_topological_order_respects_transitive_constraints() -> None:
    # A10 -> A11 -> A12 even though A11 is not in the subset.
    assert GRAPH.topological_order(["A12", "A10"]) == ["A10", "A12"]


def test_topological_order_drops_duplicates() -> None:
    assert GRAPH.topological_order(["A3", "A3", "A2"]) == ["A2", "A3"]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    subset=st.lists(st.sampled_from(default_framework().codes), unique=True, max_size=30),
    kinds=st.sampled_from([("prerequisite",), ORDERING_KINDS]),
)
def test_topological_order_respects_edges(subset: list[str], kinds: tuple[str, ...]) -> None:
    order = GRAPH.topological_order(subset, kinds=kinds)
    assert sorted(order) == sorted(subset)
    position = {c: i for i, c in enumerate(order)}
    closure = nx.transitive_closure_dag(
        nx.DiGraph([(e.source, e.target) for e in default_framework().edges if e.kind in kinds])
    )
    for source, target in closure.edges:
        if source in position and target in position:
            assert position[source] < position[target]


def test_dot_export_marks_unverified_names() -> None:
    dot = GRAPH.to_dot()
    assert dot.startswith('digraph "national"') and "A2 数字教育资源获取与评价 [unverified]" in dot


def test_json_export_lists_nodes_and_edges() -> None:
    data = GRAPH.to_json()
    assert len(data["nodes"]) == 30 and len(data["edges"]) == len(default_framework().edges)
