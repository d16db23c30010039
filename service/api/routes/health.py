"""Liveness and readiness probes (no key needed, no tenant data) and the caller's own key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.deps import CurrentKey, StateDep
from service.api.routes.metrics import optional_principal

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database or model not ready."}})
def readyz(request: Request, state: StateDep) -> JSONResponse:
    """Readiness: the database answers and a model is loaded.

    Anyone (a load balancer) gets the status alone; an admin key also gets the details — the
    database error class, the model version and load times, this worker's ranking cache
    (entries, hits, misses since start, to size ``NENGLI_RANKING_CACHE_ENTRIES``).
    """
    body: dict[str, Any] = {"database": "ok", "model": None}
    ready = True
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready", never a 500
        body["database"] = f"unreachable: {type(error).__name__}"
        ready = False
    current = state.registry.current
    if current is None:
        body["model"] = {"loaded": False, "reason": state.registry.last_error}
        ready = False
    else:
        body["model"] = {
            "loaded": True,
            "version": current.version,
            "loaded_at": current.loaded_at.isoformat(),
            "created_at": current.metadata.get("created_at"),
        }
    cache = state.ranking_cache
    body["ranking_cache"] = {
        "entries": len(cache),
        "max_entries": cache.max_entries,
        "hits": cache.hits,
        "misses": cache.misses,
    }
    body["status"] = "ready" if ready else "not ready"
    principal = optional_principal(request)
    if principal is None or principal.role != "admin":
        body = {"status": body["status"]}  # no internals for anonymous callers
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/v1/me")
async def who_am_i(principal: CurrentKey) -> dict[str, str | None]:
    """The key making the request: id, role and scope (a platform's region, a school, a teacher).

    Lets an integration check its configuration before sending data; reads no tenant data.
    """
    return {"key_id": principal.key_id, "role": principal.role, "scope": principal.scope}
