"""The competency graph: typed edges between points and the queries the rest of nengli needs.

Three edge kinds carry different meaning: ``progression`` (same dimension, richer environment),
``prerequisite`` (recommend the source first) and ``related`` (soft, only for smoothing). Ordering
queries use prerequisite edges, plus progression edges where a learning order is wanted; the
similarity queries (:meth:`CompetencyGraph.neighbour_weights`, :meth:`CompetencyGraph.adjacency_matrix`)
use every edge, undirected.

Examples
--------
>>> g = CompetencyGraph(default_framework())
>>> len(g.feasible_points("blended"))
23
>>> g.topological_order(["A3", "A2"])
['A2', 'A3']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from competency_model.errors import FrameworkError
from competency_model.framework import (
    DIMENSIONS,
    ENVIRONMENTS,
    ORDERING_KINDS,
    Framework,
    default_framework,
    normalize_environment,
)

__all__ = ["CompetencyGraph", "DEFAULT_GATING", "cumulative_gating"]


def cumulative_gating() -> dict[str, list[str]]:
    """The default environment gating A ⊂ A+B ⊂ A+B+C.

    A school equipped for a richer environment also has the simpler ones, so it may choose their
    points as well.
    """
    return {env: list(ENVIRONMENTS[: i + 1]) for i, env in enumerate(ENVIRONMENTS)}


DEFAULT_GATING: dict[str, list[str]] = cumulative_gating()


class CompetencyGraph:
    """A :class:`networkx.DiGraph` over the framework's points with typed, weighted edges.

    Parameters
    ----------
    framework
        The validated framework; ``None`` means the shipped national framework.

    Attributes
    ----------
    graph
        One node per point (attributes: name_zh, name_en, environment, dimension,
        verification) and one edge per framework edge (attributes: kind, weight, rationale_zh,
        rationale_en, official). Two edges between the same ordered pair keep the stronger one
        in ``graph`` but both stay in ``framework.edges``.
    """

    def __init__(self, framework: Framework | None = None) -> None:
        self.framework = framework if framework is not None else default_framework()
        self.graph = nx.DiGraph(name=self.framework.name)
        for p in self.framework.points:
            self.graph.add_node(
                p.code,
                name_zh=p.name_zh,
                name_en=p.name_en,
                environment=p.environment,
                dimension=p.dimension,
                verification=p.verification.status,
            )
        for e in self.framework.edges:
            existing = self.graph.get_edge_data(e.source, e.target)
            if existing is not None and existing["weight"] >= e.weight:
                continue
            self.graph.add_edge(
                e.source,
                e.target,
                kind=e.kind,
                weight=e.weight,
                rationale_zh=e.rationale_zh,
                rationale_en=e.rationale_en,
                official=e.official,
            )
        self._order_graphs: dict[tuple[str, ...], nx.DiGraph] = {}

    # ------------------------------------------------------------------ helpers
    def _check_code(self, code: str) -> str:
        if code not in self.graph:
            self.framework.index(code)  # raises FrameworkError naming the code
        return code

    def _ordering(self, kinds: Sequence[str]) -> nx.DiGraph:
        key = tuple(sorted(kinds))
        unknown = set(key) - set(ORDERING_KINDS) - {"related"}
        if unknown:
            raise FrameworkError(f"unknown edge kind(s) {sorted(unknown)}; use {ORDERING_KINDS}")
        if key not in self._order_graphs:
            sub = nx.DiGraph()
            sub.add_nodes_from(self.framework.codes)
            sub.add_edges_from((e.source, e.target) for e in self.framework.edges if e.kind in key)
            if not nx.is_directed_acyclic_graph(sub):
                raise FrameworkError(f"edges of kinds {key} contain a cycle; no order exists")
            self._order_graphs[key] = sub
        return self._order_graphs[key]

    # ------------------------------------------------------------------ queries
    def feasible_points(
        self,
        school_environment: str,
        gating: Mapping[str, Sequence[str]] | None = None,
    ) -> list[str]:
        """Codes a school with this environment may choose, in framework order.

        Parameters
        ----------
        school_environment
            ``multimedia``/``blended``/``smart`` (or A/B/C, or the Chinese label).
        gating
            Map from school environment to the point environments it unlocks; defaults to the
            cumulative rule A ⊂ A+B ⊂ A+B+C. Policies carry their own (``Policy.environment_gating``).
        """
        env = normalize_environment(school_environment)
        rule = DEFAULT_GATING if gating is None else gating
        if env not in rule:
            raise FrameworkError(
                f"environment gating has no entry for {env!r}; add it to the policy's "
                "environment_gating"
            )
        return self.framework.points_in(rule[env])

    def prerequisites(self, code: str, kinds: Sequence[str] = ("prerequisite",)) -> list[str]:
        """Direct predecessors of ``code`` along edges of ``kinds`` (framework order)."""
        order = self._ordering(kinds)
        preds = set(order.predecessors(self._check_code(code)))
        return [c for c in self.framework.codes if c in preds]

    def ancestors(self, code: str, kinds: Sequence[str] = ("prerequisite",)) -> list[str]:
        """Everything that should come before ``code`` (transitively), in framework order."""
        order = self._ordering(kinds)
        found = nx.ancestors(order, self._check_code(code))
        return [c for c in self.framework.codes if c in found]

    def descendants(self, code: str, kinds: Sequence[str] = ("prerequisite",)) -> list[str]:
        """Everything that ``code`` unlocks (transitively), in framework order."""
        order = self._ordering(kinds)
        found = nx.descendants(order, self._check_code(code))
        return [c for c in self.framework.codes if c in found]

    def progression_chains(self) -> dict[str, list[list[str]]]:
        """Maximal progression paths per dimension, e.g. ``{"learner_analysis": [["A1","B1","C1"]]}``.

        Every dimension is a key (possibly with an empty list); points without any progression
        edge form no chain.
        """
        prog = nx.DiGraph()
        prog.add_edges_from(
            (e.source, e.target) for e in self.framework.edges if e.kind == "progression"
        )
        chains: dict[str, list[list[str]]] = {d: [] for d in DIMENSIONS}
        index = self.framework.index
        starts = sorted((n for n in prog if prog.in_degree(n) == 0), key=index)
        for start in starts:
            stack: list[list[str]] = [[start]]
            while stack:
                path = stack.pop()
                succ = sorted(prog.successors(path[-1]), key=index, reverse=True)
                if not succ:
                    dimension = self.framework.point(start).dimension
                    chains[dimension].append(path)
                    continue
                stack.extend(path + [s] for s in succ)
        return chains

    def neighbour_weights(self, code: str) -> dict[str, float]:
        """Undirected neighbours of ``code`` with edge weights (the strongest edge per pair).

        Used to smooth diagnostic scores: a point with little evidence borrows from related points
        in proportion to these weights.
        """
        self._check_code(code)
        weights: dict[str, float] = {}
        for other in list(self.graph.successors(code)) + list(self.graph.predecessors(code)):
            w = max(
                self.graph.get_edge_data(code, other, {}).get("weight", 0.0),
                self.graph.get_edge_data(other, code, {}).get("weight", 0.0),
            )
            weights[other] = max(w, weights.get(other, 0.0))
        return {c: weights[c] for c in self.framework.codes if c in weights}

    def adjacency_matrix(self) -> NDArray[np.float64]:
        """Symmetric weighted adjacency (points × points, order = ``framework.codes``, zero diagonal)."""
        n = len(self.framework.codes)
        matrix = np.zeros((n, n), dtype=np.float64)
        index = self.framework.index
        for e in self.framework.edges:
            i, j = index(e.source), index(e.target)
            matrix[i, j] = matrix[j, i] = max(matrix[i, j], e.weight)
        return matrix

    def topological_order(
        self, codes: Iterable[str], kinds: Sequence[str] = ORDERING_KINDS
    ) -> list[str]:
        """Order a subset so that every point comes after its (transitive) predecessors.

        Constraints that pass through points outside the subset still count (A2 → A3 → …). Ties
        are broken by framework order, so the result is deterministic. Duplicates are dropped.

        Parameters
        ----------
        codes
            Any subset of the framework's codes.
        kinds
            Edge kinds that impose order; default prerequisite and progression.
        """
        wanted = list(dict.fromkeys(self._check_code(c) for c in codes))
        order = self._ordering(kinds)
        sub = nx.DiGraph()
        sub.add_nodes_from(wanted)
        members = set(wanted)
        for c in wanted:
            for d in nx.descendants(order, c) & members:
                sub.add_edge(c, d)
        return list(nx.lexicographical_topological_sort(sub, key=self.framework.index))

    def to_json(self) -> dict[str, Any]:
        """Node-link JSON of the graph (nodes with attributes, edges with kind/weight/rationale)."""
        return {
            "framework": self.framework.name,
            "version": self.framework.version,
            "nodes": [{"code": n, **self.graph.nodes[n]} for n in self.framework.codes],
            "edges": [e.model_dump(mode="json") for e in self.framework.edges],
        }

    def to_dot(self) -> str:
        """Graphviz DOT text; edge style encodes kind (solid progression, bold prerequisite, dashed related)."""
        style = {"progression": "solid", "prerequisite": "bold", "related": "dashed"}
        lines = [f'digraph "{self.framework.name}" {{', "  rankdir=LR;"]
        for env in ENVIRONMENTS:
            lines.append(f'  subgraph "cluster_{env}" {{ label="{env}";')
            for p in self.framework.points:
                if p.environment == env:
                    label = f"{p.code} {p.name_zh}".replace('"', "'")
                    if p.verification.status != "confirmed":
                        label += f" [{p.verification.status}]"
                    lines.append(f'    "{p.code}" [label="{label}"];')
            lines.append("  }")
        for e in self.framework.edges:
            lines.append(
                f'  "{e.source}" -> "{e.target}" [label="{e.kind} {e.weight:g}", '
                f"style={style[e.kind]}];"
            )
        lines.append("}")
        return "\n".join(lines) + "\n"
