"""Administration: swap in a newly trained model without dropping requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.api.deps import AdminKey, StateDep
from service.reloads import record_reload

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/reload")
def reload_models(state: StateDep, admin: AdminKey) -> dict[str, Any]:
    """Load the model directory again (hashes verified) and swap it in atomically.

    This worker reloads before answering; the other worker processes follow within
    ``NENGLI_RELOAD_POLL_SECONDS`` (see :mod:`service.reloads`).
    """
    previous = state.registry.current
    bundle = state.registry.reload()
    state.ranking_cache.clear()  # rankings of the old version would only wait for eviction
    with state.sessions() as session:
        record_reload(session, admin, bundle.version)
    return {
        "version": bundle.version,
        "previous_version": previous.version if previous else None,
        "model_dir": str(bundle.model_dir),
        "loaded_at": bundle.loaded_at.isoformat(),
        "other_workers_follow_within_s": state.settings.reload_poll_seconds,
    }
