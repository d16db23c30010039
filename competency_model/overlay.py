"""Framework overlays: a province or district renames, adds or retires points and edges.

The Chongqing notice asks districts to 修改完善微能力点, and most regions publish their own
official list, so a deployment rarely wants the national reconstruction as is. An overlay is a
small JSON document applied on top of a base framework::

    {"kind": "overlay", "name": "yubei-2021", "base": "national",
     "rename_points": [{"code": "A4", "name_zh": "…", "name_en": "…",
                        "verification": {"status": "verified", "sources": ["渝北区通知"]}}],
     "add_points":   [{…a full point…}],
     "retire_points": ["A13"],
     "add_edges":    [{…a full edge…}],
     "retire_edges": [{"source": "A3", "target": "A6"}]}

Operations run in the order retire edges → retire points (their edges go too) → rename → add
points → add edges, and the result is validated like any framework (unknown codes, duplicates,
cycles → :class:`~competency_model.errors.FrameworkError` naming the operation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from competency_model.errors import FrameworkError, first_validation_problem
from competency_model.framework import (
    Artifact,
    Edge,
    Framework,
    Point,
    Verification,
    parse_framework,
)

__all__ = ["EdgeRef", "Overlay", "PointRename", "apply_overlay"]


class PointRename(BaseModel):
    """New wording for an existing point; unset fields keep the base value.

    A rename without ``verification`` marks the point ``unverified`` (the new name has no cited
    source), so an overlay can never make a name look official by accident.
    """

    model_config = ConfigDict(extra="forbid")

    code: str
    name_zh: str | None = None
    name_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    artifacts: list[Artifact] | None = None
    verification: Verification | None = None


class EdgeRef(BaseModel):
    """Identifies edges to retire; without ``kind`` every edge between the pair goes."""

    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    kind: str | None = None


class Overlay(BaseModel):
    """A set of changes to a base framework (see the module docstring for the format)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "overlay"
    schema_: str | None = Field(default=None, alias="schema")
    name: str
    version: str = "1"
    base: str = "national"
    notes: str = ""
    sources: dict[str, dict[str, str]] = Field(default_factory=dict)
    rename_points: list[PointRename] = Field(default_factory=list)
    add_points: list[dict[str, Any]] = Field(default_factory=list)
    retire_points: list[str] = Field(default_factory=list)
    add_edges: list[dict[str, Any]] = Field(default_factory=list)
    retire_edges: list[EdgeRef] = Field(default_factory=list)


def _matches(edge: Edge, ref: EdgeRef) -> bool:
    return (
        edge.source == ref.source
        and edge.target == ref.target
        and (ref.kind is None or edge.kind == ref.kind)
    )


def apply_overlay(base: Framework, overlay: Overlay | Mapping[str, Any]) -> Framework:
    """Return a new framework: ``base`` with the overlay's operations applied and re-validated.

    Raises
    ------
    FrameworkError
        When an operation names a point or edge that does not exist, adds a code that already
        exists, or the result fails framework validation.
    """
    if not isinstance(overlay, Overlay):
        try:
            overlay = Overlay.model_validate(overlay)
        except ValidationError as error:
            where, message, _ = first_validation_problem(error)
            raise FrameworkError(f"overlay field {where!r}: {message}") from None
    tag = f"overlay {overlay.name!r}"
    points = {p.code: p for p in base.points}
    order = list(base.codes)
    edges = list(base.edges)

    for ref in overlay.retire_edges:
        kept = [e for e in edges if not _matches(e, ref)]
        if len(kept) == len(edges):
            raise FrameworkError(
                f"{tag}: retire_edges names {ref.source}->{ref.target}"
                f"{' (' + ref.kind + ')' if ref.kind else ''}, which is not in the base framework",
                details={"edge": ref.model_dump()},
            )
        edges = kept
    for code in overlay.retire_points:
        if code not in points:
            raise FrameworkError(
                f"{tag}: retire_points names unknown point {code!r}", details={"code": code}
            )
        del points[code]
        order.remove(code)
        edges = [e for e in edges if code not in (e.source, e.target)]
    for rename in overlay.rename_points:
        if rename.code not in points:
            raise FrameworkError(
                f"{tag}: rename_points names unknown or retired point {rename.code!r}",
                details={"code": rename.code},
            )
        changes = rename.model_dump(exclude_none=True, exclude={"code", "verification"})
        if rename.artifacts is not None:
            changes["artifacts"] = rename.artifacts
        verification = rename.verification or Verification(
            status="unverified",
            notes=f"Renamed by {tag} without a cited source.",
        )
        points[rename.code] = points[rename.code].model_copy(
            update={**changes, "verification": verification}
        )
    for i, raw in enumerate(overlay.add_points):
        code = raw.get("code", "?")
        if code in points:
            raise FrameworkError(
                f"{tag}: add_points #{i} uses code {code!r}, which already exists; "
                "use rename_points to change it",
                details={"code": code},
            )
        item = {"rating_rule": base.rating_rule.model_dump(), **raw}
        try:
            points[code] = Point.model_validate(item)
        except ValidationError as error:
            where, message, value = first_validation_problem(error)
            raise FrameworkError(
                f"{tag}: add_points #{i} ({code}) is invalid: field {where!r} = "
                f"{value!r}: {message}",
                details={"code": code},
            ) from None
        order.append(code)
    data = {
        "name": f"{base.name}+{overlay.name}",
        "version": f"{base.version}+{overlay.version}",
        "label_zh": base.label_zh,
        "label_en": base.label_en,
        "notes": overlay.notes or base.notes,
        "rating_rule": base.rating_rule.model_dump(),
        "sources": {**base.sources, **overlay.sources},
        "points": [points[c].model_dump() for c in order],
        "edges": [e.model_dump() for e in edges] + list(overlay.add_edges),
        "overlays": [*base.overlays, overlay.name],
        "retired": [*base.retired, *overlay.retire_points],
    }
    return parse_framework(data, origin=tag)
