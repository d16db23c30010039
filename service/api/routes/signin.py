"""Sign-in for people: ``/auth/login`` → provider → ``/auth/callback`` → the dashboard.

The routes answer 404 when sign-in is not configured (``NENGLI_OIDC_ISSUER`` unset), except
``GET /auth/session``, which the dashboard asks to decide between the sign-in button and the
key form.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from competency_model.errors import NotFoundError
from service.signin.client import SignIn
from service.signin.mapping import principal_from_claims
from service.signin.session import end_session, session_principal, session_view, start_session

# Browser redirect endpoints, not part of the v1 API: kept out of the OpenAPI document.
router = APIRouter(prefix="/auth", tags=["sign-in"], include_in_schema=False)
logger = logging.getLogger("nengli.signin")

_NEXT_KEY = "nengli.next"


def _sign_in(request: Request) -> SignIn:
    sign_in: SignIn | None = getattr(request.app.state, "signin", None)
    if sign_in is None:
        raise NotFoundError("sign-in is not configured on this server (NENGLI_OIDC_ISSUER)")
    return sign_in


def _safe_next(target: str) -> str:
    """Only the dashboard is a place to return to: no other host, no protocol-relative URL."""
    if target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


@router.get("/session")
async def current_session(request: Request) -> dict[str, Any]:
    """Whether sign-in is available and who is signed in (with the CSRF token for writes)."""
    enabled = getattr(request.app.state, "signin", None) is not None
    return {"enabled": enabled, **(session_view(request) if enabled else {"signed_in": False})}


@router.get("/login")
async def login(request: Request, next: str = "/ui/") -> Response:
    """Send the browser to the province's identity provider."""
    sign_in = _sign_in(request)
    request.session[_NEXT_KEY] = _safe_next(next)
    return await sign_in.redirect(request, str(request.url_for("signin_callback")))


@router.get("/callback", name="signin_callback")
async def callback(request: Request) -> Response:
    """Verify the provider's answer, map the claims to a role and start the session."""
    sign_in = _sign_in(request)
    claims = await sign_in.claims(request)
    principal = principal_from_claims(claims, sign_in.mapping)
    target = _safe_next(str(request.session.get(_NEXT_KEY, "/ui/")))
    start_session(request, principal, sign_in.max_age_seconds)
    logger.info("signed in", extra={"subject": principal.key_id, "role": principal.role})
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> dict[str, Any]:
    """End the session (a signed-in caller must send its CSRF token)."""
    _sign_in(request)
    session_principal(request)  # raises without the CSRF token of a live session
    end_session(request)
    return {"enabled": True, "signed_in": False}
