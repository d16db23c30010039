"""The competency framework: points (with verification status), the graph, regional policies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from competency_model.errors import NotFoundError, PolicyError
from competency_model.policy import available_policies, load_policy
from service.api.deps import CurrentKey, StateDep
from service.api.schemas.common import CursorQuery, LimitQuery, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["competencies"])

CODE = Path(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,31}$", examples=["A1"])
POLICY = Path(pattern=r"^[a-z][a-z0-9_\-]{0,63}$", examples=["jiangsu"])


@router.get("/competencies")
def list_competencies(
    state: StateDep, _key: CurrentKey, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> dict[str, Any]:
    """List the micro-competency points in framework order."""
    codes = state.framework.codes
    after = decode_cursor(cursor)
    start = codes.index(after) + 1 if after in codes else 0
    page = codes[start : start + limit]
    data = [state.framework.point(code).model_dump(mode="json") for code in page]
    more = start + limit < len(codes)
    return {
        "framework": state.framework.name,
        "version": state.framework.version,
        "data": data,
        "count": len(data),
        "next_cursor": encode_cursor(page[-1]) if more and page else None,
    }


@router.get("/competencies/graph")
def competency_graph(state: StateDep, _key: CurrentKey) -> dict[str, Any]:
    """The competency graph as node-link JSON (edges carry kind, weight and rationale)."""
    return state.graph.to_json()


@router.get("/competencies/{code}")
def get_competency(state: StateDep, _key: CurrentKey, code: str = CODE) -> dict[str, Any]:
    """One point with its artifacts, rating rule, verification status and graph neighbours."""
    if code not in state.framework.codes:
        raise NotFoundError(f"competency point {code!r} not found", details={"code": code})
    point = state.framework.point(code)
    body = point.model_dump(mode="json")
    body["verification_label"] = point.verification.label
    body["prerequisites"] = state.graph.prerequisites(code)
    body["neighbours"] = state.graph.neighbour_weights(code)
    return body


@router.get("/policies/{name}")
def get_policy(_key: CurrentKey, name: str = POLICY) -> dict[str, Any]:
    """A regional hour policy (total, practice share, online minimum, gating, provenance)."""
    if name not in available_policies():
        raise NotFoundError(
            f"policy {name!r} not found; available: {', '.join(available_policies())}",
            details={"policy": name},
        )
    try:
        return load_policy(name).model_dump(mode="json")
    except PolicyError as error:
        raise NotFoundError(error.message) from error
