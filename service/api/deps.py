"""Typed FastAPI dependencies shared by every route (built once, imported everywhere).

They are ``async`` on purpose: each does microseconds of work (create a session, look a key up
in :class:`~service.auth.KeyCache`), and FastAPI runs a plain ``def`` dependency in the thread
pool, a hand-off that cost more than the work itself. A key missing from the cache costs one
indexed query on the event loop, in a session of its own: authentication does not depend on the
request's session, so a route that needs none (the recommendation hot path) opens none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from competency_model.errors import PermissionDenied
from service.auth import Principal
from service.db.row_security import scope_session
from service.signin.session import session_principal
from service.state import ServiceState

__all__ = [
    "AdminKey",
    "CurrentKey",
    "SessionDep",
    "StateDep",
    "get_db",
    "require_admin",
    "require_key",
]


async def get_state(request: Request) -> ServiceState:
    """The service state attached by :func:`service.app.create_app`."""
    state: ServiceState = request.app.state.nengli
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


class BearerKey(HTTPBearer):
    """Authenticate the bearer key (401 problem when missing or wrong).

    A subclass of FastAPI's ``HTTPBearer`` so ``/openapi.json`` declares the scheme on every
    operation that needs a key, but one dependency with no sub-dependencies of its own: each
    sub-dependency cost the solver more than the key lookup (measured in docs/benchmarks.md,
    section service).

    A key verified in the last few seconds is answered from :class:`KeyCache` without a query;
    otherwise its row is read in a short session of its own. Either way the key's use is
    noted, and its ``last_used_at`` written at most once a minute (:mod:`service.key_usage`). Without a header, a person signed
    in through the identity provider is recognised by the session cookie
    (:mod:`service.signin.session`).
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        state: ServiceState = request.app.state.nengli
        header = request.headers.get("authorization")
        if header is None and "session" in request.scope:  # a person signed in (OIDC)
            signed_in = session_principal(request)
            if signed_in is not None:
                return signed_in
        cache = state.key_cache
        principal = cache.cached(header)
        if principal is None:
            with state.sessions() as session:
                principal = cache.authenticate(session, header)
        elif (used_at := cache.usage.claim(principal.key_id)) is not None:
            # Once a minute per key: the cached path stays query-free the rest of the time.
            with state.sessions() as session:
                cache.usage.write(session, principal.key_id, used_at)
        return principal


require_key = BearerKey(
    scheme_name="HTTPBearer",
    auto_error=False,
    description="An API key from `nengli keys create`.",
)
CurrentKey = Annotated[Principal, Depends(require_key)]


async def get_db(state: StateDep, principal: CurrentKey) -> AsyncIterator[Session]:
    """One session per request; rolled back if the route raised, closed afterwards.

    On PostgreSQL its transactions run as the API role limited to the caller's region
    (row-level security behind the routes' own tenancy checks, :mod:`service.db.row_security`).
    """
    session = state.sessions()
    if state.settings.row_security:
        scope_session(session, principal.role, principal.scope)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]


async def require_admin(principal: CurrentKey) -> Principal:
    """Only admin keys pass (403 otherwise: the route's existence is public in /docs)."""
    if principal.role != "admin":
        raise PermissionDenied(f"this endpoint needs an admin key, not a {principal.role} key")
    return principal


AdminKey = Annotated[Principal, Depends(require_admin)]
