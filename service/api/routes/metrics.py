"""``GET /metrics``: Prometheus exposition, for admin keys unless the deployment opens it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from competency_model.errors import AuthError, PermissionDenied
from service.api.deps import StateDep
from service.auth import Principal
from service.observability.metrics import CONTENT_TYPE_LATEST, render_metrics

router = APIRouter(tags=["health"])


def optional_principal(request: Request) -> Principal | None:
    """The caller's key if a valid one was sent, else None (never an error)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    state = request.app.state.nengli
    principal = state.key_cache.cached(header)
    if principal is not None:
        return principal  # type: ignore[no-any-return]
    try:
        with state.sessions() as session:
            return state.key_cache.authenticate(session, header)  # type: ignore[no-any-return]
    except AuthError:
        return None


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, state: StateDep) -> Response:
    """Request counts and latency per route, model version, ranking cache, import rows.

    Needs an admin key (``Authorization: Bearer``, which Prometheus' ``authorization`` setting
    sends) unless ``NENGLI_METRICS_PUBLIC=true``, for a scraper on a private network.
    """
    if not state.settings.metrics_public:
        principal = optional_principal(request)
        if principal is None:
            raise AuthError("/metrics needs an admin key (or NENGLI_METRICS_PUBLIC=true)")
        if principal.role != "admin":
            raise PermissionDenied(f"/metrics needs an admin key, not a {principal.role} key")
    return Response(render_metrics(state), media_type=CONTENT_TYPE_LATEST)
