"""Typed FastAPI dependencies shared by every route (built once, imported everywhere).

They are ``async`` on purpose: each does microseconds of work (create a session, look a key up
in :class:`~service.auth.KeyCache`), and FastAPI runs a plain ``def`` dependency in the thread
pool, a hand-off that cost more than the work itself. A key missing from the cache costs one
indexed query on the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from competency_model.errors import PermissionDenied
from service.api.state import ServiceState
from service.auth import KeyCache, Principal

__all__ = [
    "AdminKey",
    "CurrentKey",
    "SessionDep",
    "StateDep",
    "get_db",
    "require_admin",
    "require_key",
]

_bearer = HTTPBearer(auto_error=False, description="An API key from `nengli keys create`.")


async def get_state(request: Request) -> ServiceState:
    """The service state attached by :func:`service.app.create_app`."""
    state: ServiceState = request.app.state.nengli
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_db(state: StateDep) -> AsyncIterator[Session]:
    """One session per request; rolled back if the route raised, closed afterwards."""
    session = state.sessions()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]


def key_cache(state: ServiceState) -> KeyCache:
    """The app's cache of verified keys (created on first use, one per app)."""
    cache = state.extras.get("key_cache")
    if not isinstance(cache, KeyCache):
        cache = state.extras["key_cache"] = KeyCache()
    return cache


async def require_key(
    state: StateDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer key (401 problem when missing or wrong).

    A key verified in the last few seconds is answered from :class:`KeyCache` without a query,
    so most requests open no transaction here at all.
    """
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    principal = key_cache(state).authenticate(session, header)
    if session.in_transaction():
        # The lookup opened a transaction; end it so a long model call holds no read snapshot.
        session.commit()
    return principal


CurrentKey = Annotated[Principal, Depends(require_key)]


async def require_admin(principal: CurrentKey) -> Principal:
    """Only admin keys pass (403 otherwise: the route's existence is public in /docs)."""
    if principal.role != "admin":
        raise PermissionDenied(f"this endpoint needs an admin key, not a {principal.role} key")
    return principal


AdminKey = Annotated[Principal, Depends(require_admin)]
