"""The competency framework as validated data: 30 micro-competency points and the edges between them.

The national list is only partly confirmed by public sources, so the framework is *data*, not
code: every point carries a verification status, and a province or district can load its own
file or an overlay (see :mod:`competency_model.overlay`) without touching the code. This module
defines the pydantic schema, the loader and the checks that turn bad data into a
:class:`~competency_model.errors.FrameworkError` naming the offending entry.

Examples
--------
>>> fw = default_framework()
>>> len(fw.points), fw.point("A1").environment
(30, 'multimedia')
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from competency_model.errors import FrameworkError, first_validation_problem
from competency_model.vocabulary import (
    DIMENSION_LABELS_EN,
    DIMENSION_LABELS_ZH,
    DIMENSIONS,
    EDGE_KINDS,
    ENVIRONMENT_LABELS_EN,
    ENVIRONMENT_LABELS_ZH,
    ENVIRONMENT_LETTERS,
    ENVIRONMENTS,
    ORDERING_KINDS,
    RATINGS,
    VERIFICATION_LABELS,
    Dimension,
    EdgeKind,
    Environment,
    VerificationStatus,
    normalize_environment,
)

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS_EN",
    "DIMENSION_LABELS_ZH",
    "EDGE_KINDS",
    "ENVIRONMENTS",
    "ENVIRONMENT_LABELS_EN",
    "ENVIRONMENT_LABELS_ZH",
    "ENVIRONMENT_LETTERS",
    "NATIONAL_FRAMEWORK_PATH",
    "ORDERING_KINDS",
    "RATINGS",
    "VERIFICATION_LABELS",
    "Artifact",
    "Edge",
    "EdgeReview",
    "Framework",
    "Point",
    "RatingRule",
    "Verification",
    "default_framework",
    "normalize_environment",
    "parse_framework",
]

NATIONAL_FRAMEWORK_PATH = Path(__file__).parent / "data" / "national_framework.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(_Model):
    """One evidence item a teacher submits for a point (e.g. 课堂实录片段 ≤ 10 min)."""

    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    required: bool = True
    max_minutes: int | None = Field(default=None, gt=0)
    #: ``verified``/``weakly_verified`` when a source lists the item, ``reconstructed`` otherwise.
    status: Literal["verified", "weakly_verified", "reconstructed"] = "reconstructed"


class RatingRule(_Model):
    """How the per-item ratings (优秀/合格/不合格) aggregate into one rating for the point."""

    levels: tuple[str, ...] = RATINGS
    aggregation: Literal["all_items"] = "all_items"
    description_zh: str = ""
    description_en: str = ""
    sources: list[str] = Field(default_factory=list)

    def aggregate(self, item_ratings: Sequence[str], missing_required: int = 0) -> str:
        """Combine item ratings: 优秀 only if all are 优秀, 不合格 if any is below 合格 or missing.

        Parameters
        ----------
        item_ratings
            One rating per submitted evidence item.
        missing_required
            Number of required items not submitted; any missing item fails the point.
        """
        unknown = [r for r in item_ratings if r not in RATINGS]
        if unknown:
            raise FrameworkError(f"unknown rating {unknown[0]!r}; use one of {', '.join(RATINGS)}")
        if missing_required > 0 or not item_ratings or "不合格" in item_ratings:
            return "不合格"
        return "优秀" if all(r == "优秀" for r in item_ratings) else "合格"


class Verification(_Model):
    """How far public sources confirm the point's code and name."""

    status: VerificationStatus
    sources: list[str] = Field(default_factory=list)
    notes: str = ""
    alternative_names: list[str] = Field(default_factory=list)
    environment_basis: str | None = None
    dimension_basis: str | None = None

    @property
    def label(self) -> str:
        """Bilingual display label, e.g. ``未核实/unverified``."""
        return VERIFICATION_LABELS[self.status]


class Point(_Model):
    """One micro-competency point (微能力点)."""

    code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=32)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    environment: Environment
    dimension: Dimension
    description_zh: str = ""
    description_en: str = ""
    artifacts: list[Artifact] = Field(default_factory=list)
    rating_rule: RatingRule = Field(default_factory=RatingRule)
    verification: Verification

    @property
    def display_name_zh(self) -> str:
        """Chinese name with a 未核实 marker unless the name is verified."""
        if self.verification.status == "verified":
            return self.name_zh
        return f"{self.name_zh}（{VERIFICATION_LABELS[self.verification.status].split('/')[0]}）"


class EdgeReview(_Model):
    """Why nengli changed or added an edge relative to the proposal it started from."""

    change: str
    reason_zh: str
    reason_en: str


class Edge(_Model):
    """A typed, directed relation between two points, with its rationale."""

    source: str
    target: str
    kind: EdgeKind
    weight: float = Field(gt=0.0, le=1.0)
    rationale_zh: str = ""
    rationale_en: str = ""
    official: bool = False
    strength: Literal["strong", "medium", "weak"] | None = None
    depends_on_unverified_names: bool = False
    review: EdgeReview | None = None


class Framework(_Model):
    """A complete, validated framework: points in file order plus edges.

    Validation (run on construction) rejects duplicate codes, self-loops, duplicate edges, edges
    to unknown points, progression edges that leave their dimension or do not go to a richer
    environment, and cycles among ordering (prerequisite + progression) edges.
    """

    name: str
    version: str = "1"
    label_zh: str = ""
    label_en: str = ""
    notes: str = ""
    rating_rule: RatingRule = Field(default_factory=RatingRule)
    sources: dict[str, dict[str, str]] = Field(default_factory=dict)
    points: list[Point]
    edges: list[Edge] = Field(default_factory=list)
    #: Overlays applied on top of the base framework, oldest first.
    overlays: list[str] = Field(default_factory=list)
    retired: list[str] = Field(default_factory=list)
    _index: dict[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> Framework:
        _check_framework(self)
        return self

    @property
    def codes(self) -> list[str]:
        """Point codes in file order (the column order of every matrix in nengli)."""
        return [p.code for p in self.points]

    def point(self, code: str) -> Point:
        """Return the point with this code or raise :class:`FrameworkError`."""
        return self.points[self.index(code)]

    def index(self, code: str) -> int:
        """Position of ``code`` in :attr:`codes`."""
        try:
            return self._index_map()[code]
        except KeyError:
            raise FrameworkError(
                f"unknown competency point {code!r} in framework {self.name!r}; "
                f"known codes: {', '.join(self.codes)}",
                details={"code": code},
            ) from None

    def _index_map(self) -> dict[str, int]:
        if self._index is None:
            self._index = {c: i for i, c in enumerate(self.codes)}
        return self._index

    def points_in(self, environments: Iterable[str]) -> list[str]:
        """Codes whose environment is one of ``environments`` (file order)."""
        wanted = set(environments)
        return [p.code for p in self.points if p.environment in wanted]

    def edges_of_kind(self, *kinds: str) -> list[Edge]:
        """Edges whose kind is one of ``kinds``."""
        return [e for e in self.edges if e.kind in kinds]


def _check_framework(fw: Framework) -> None:
    dupes = [c for c, n in Counter(p.code for p in fw.points).items() if n > 1]
    if dupes:
        raise FrameworkError(
            f"duplicate point code {dupes[0]!r} in framework {fw.name!r}; each code must be unique",
            details={"code": dupes[0]},
        )
    if not fw.points:
        raise FrameworkError(f"framework {fw.name!r} has no points")
    by_code = {p.code: p for p in fw.points}
    seen: set[tuple[str, str, str]] = set()
    for i, e in enumerate(fw.edges):
        label = f"edge #{i} {e.source}->{e.target} ({e.kind})"
        for end in (e.source, e.target):
            if end not in by_code:
                raise FrameworkError(
                    f"{label} refers to unknown point {end!r}; add the point or remove the edge",
                    details={"edge": i, "code": end},
                )
        if e.source == e.target:
            raise FrameworkError(f"{label} is a self-loop; remove it", details={"edge": i})
        key = (e.source, e.target, e.kind)
        if key in seen:
            raise FrameworkError(f"{label} is listed twice; keep one", details={"edge": i})
        seen.add(key)
        if e.kind == "progression":
            src, dst = by_code[e.source], by_code[e.target]
            if src.dimension != dst.dimension:
                raise FrameworkError(
                    f"{label}: a progression must stay in one dimension, but {src.code} is "
                    f"{src.dimension} and {dst.code} is {dst.dimension}; use kind 'related'",
                    details={"edge": i},
                )
            if ENVIRONMENTS.index(src.environment) >= ENVIRONMENTS.index(dst.environment):
                raise FrameworkError(
                    f"{label}: a progression must go to a richer environment, but "
                    f"{src.environment} -> {dst.environment} does not; use kind 'related'",
                    details={"edge": i},
                )
    order = nx.DiGraph()
    order.add_edges_from((e.source, e.target) for e in fw.edges if e.kind in ORDERING_KINDS)
    try:
        cycle = nx.find_cycle(order)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    raise FrameworkError(
        f"prerequisite/progression edges form a cycle {path} in framework {fw.name!r}; "
        "remove one of these edges or make it 'related'",
        details={"cycle": [u for u, _ in cycle]},
    )


def _first_error(error: ValidationError) -> str:
    where, message, value = first_validation_problem(error)
    return f"field {where!r} = {value!r}: {message}"


def parse_framework(data: Mapping[str, Any], origin: str = "<data>") -> Framework:
    """Validate a full framework document (already parsed JSON) into a :class:`Framework`.

    Points are validated one by one so that the error names the offending point (by code and
    position) rather than a pydantic location path.
    """
    if not isinstance(data, Mapping):
        raise FrameworkError(f"{origin}: a framework file must be a JSON object")
    raw_points = data.get("points")
    if not isinstance(raw_points, list):
        raise FrameworkError(f"{origin}: 'points' must be a list of point objects")
    rule = data.get("rating_rule")
    points: list[Point] = []
    for i, raw in enumerate(raw_points):
        code = raw.get("code", "?") if isinstance(raw, Mapping) else "?"
        item = dict(raw) if isinstance(raw, Mapping) else raw
        if isinstance(item, dict) and rule is not None and "rating_rule" not in item:
            item["rating_rule"] = rule
        try:
            points.append(Point.model_validate(item))
        except ValidationError as error:
            raise FrameworkError(
                f"{origin}: point #{i} ({code}) is invalid: {_first_error(error)}; "
                f"environments are {', '.join(ENVIRONMENTS)}, dimensions are {', '.join(DIMENSIONS)}",
                details={"point": i, "code": code},
            ) from None
    edges: list[Edge] = []
    for i, raw in enumerate(data.get("edges", []) or []):
        try:
            edges.append(Edge.model_validate(raw))
        except ValidationError as error:
            label = f"{raw.get('source')}->{raw.get('target')}" if isinstance(raw, Mapping) else "?"
            raise FrameworkError(
                f"{origin}: edge #{i} ({label}) is invalid: {_first_error(error)}; "
                f"edge kinds are {', '.join(EDGE_KINDS)}",
                details={"edge": i},
            ) from None
    rest = {k: v for k, v in data.items() if k not in {"points", "edges", "schema", "kind"}}
    try:
        return Framework.model_validate({**rest, "points": points, "edges": edges})
    except ValidationError as error:
        raise FrameworkError(f"{origin}: {_first_error(error)}") from None


def read_json(path: Path) -> Any:
    """Read a JSON file, turning I/O and syntax problems into :class:`FrameworkError`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FrameworkError(f"framework file {str(path)!r} does not exist") from None
    except json.JSONDecodeError as error:
        raise FrameworkError(
            f"framework file {str(path)!r} is not valid JSON: line {error.lineno} "
            f"column {error.colno}: {error.msg}"
        ) from None


@lru_cache(maxsize=1)
def default_framework() -> Framework:
    """The shipped national framework (parsed once per process)."""
    return parse_framework(read_json(NATIONAL_FRAMEWORK_PATH), origin="national_framework.json")
