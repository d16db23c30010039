"""Administration: swap in a newly trained model; the API key lifecycle.

Every route needs an admin key (403 otherwise). Key operations are written to the audit log
(``key_list``, ``key_create``, ``key_rotate``, ``key_revoke``) in the same transaction as the
change, with the acting admin key's id. An admin cannot rotate or revoke the very key it calls
with (409): one mistaken request would lock the caller out mid-operation; another admin key or
``nengli keys rotate|revoke`` does it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Path

from competency_model.errors import ConflictError
from service.api.deps import AdminKey, SessionDep, StateDep
from service.api.schemas.keys import KeyCreate, KeyIssued, KeyPublic, KeyRotate, KeysPublic
from service.audit import record_read
from service.auth import KeyCache
from service.reloads import record_reload
from service.usecases.keys import expiry_from, issue_key, list_keys, parse_duration, revoke, rotate

router = APIRouter(prefix="/v1/admin", tags=["admin"])

_ACTIONS = {"rotate": "轮换", "revoke": "吊销"}


def _not_the_calling_key(admin_key_id: str, key_id: str, action: str) -> None:
    """Refuse ``action`` (rotate or revoke) on the key the request authenticated with."""
    if key_id == admin_key_id:
        raise ConflictError(
            f"不能{_ACTIONS[action]}本次请求所用的密钥 {key_id} / cannot {action} the key this "
            f"request is made with; use another admin key or `nengli keys {action} {key_id}`"
        )


KEY_ID = Path(pattern=r"^[0-9a-f]{1,32}$", description="The middle part of nl_<key_id>_<secret>.")


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


@router.get("/keys", response_model=KeysPublic)
def list_api_keys(
    session: SessionDep, admin: AdminKey, include_revoked: bool = True
) -> dict[str, Any]:
    """List API keys with their expiry and last use; never a secret."""
    keys = [info.to_dict() for info in list_keys(session, include_revoked=include_revoked)]
    record_read(session, admin, "key_list", detail=f"{len(keys)} keys")
    return {"data": keys, "count": len(keys)}


@router.post("/keys", status_code=201, response_model=KeyIssued)
def create_api_key(session: SessionDep, admin: AdminKey, body: KeyCreate) -> dict[str, Any]:
    """Create a key; its token is in this answer only."""
    expiry = expiry_from(body.expires_in, body.expires_at, names=("expires_in", "expires_at"))
    token, info = issue_key(
        session, body.role, body.scope, body.label, expires_at=expiry, created_by=admin.key_id
    )
    record_read(
        session, admin, "key_create", detail=f"{info.key_id} {info.role}:{info.scope or '*'}"
    )
    return {"key": info.to_dict(), "token": token}


@router.post("/keys/{key_id}/rotate", response_model=KeyIssued)
def rotate_api_key(
    session: SessionDep, admin: AdminKey, body: KeyRotate, key_id: str = KEY_ID
) -> dict[str, Any]:
    """Give a key a new secret; the old one works for ``grace`` more, then answers 401.

    This worker refuses the old secret at once when there is no grace; other workers within
    their key cache's lifetime (5 s).
    """
    _not_the_calling_key(admin.key_id, key_id, "rotate")
    grace = parse_duration(body.grace, "grace") if body.grace else timedelta(0)
    token, info = rotate(session, key_id, grace)
    record_read(session, admin, "key_rotate", detail=f"{key_id} grace={grace}")
    # Again after the commit: a request racing the change may have cached the old row.
    KeyCache.forget_everywhere()
    return {"key": info.to_dict(), "token": token}


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic)
def revoke_api_key(session: SessionDep, admin: AdminKey, key_id: str = KEY_ID) -> dict[str, Any]:
    """Revoke a key (this worker at once, other workers within 5 s)."""
    _not_the_calling_key(admin.key_id, key_id, "revoke")
    info = revoke(session, key_id)
    record_read(session, admin, "key_revoke", detail=key_id)
    KeyCache.forget_everywhere()  # again after the commit, as for rotation
    return info.to_dict()
