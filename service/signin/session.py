"""The signed-in person's principal, kept in the session cookie, and CSRF for cookie writes.

The cookie is Starlette's ``SessionMiddleware`` cookie (signed with ``NENGLI_SESSION_SECRET``
through itsdangerous, ``HttpOnly``, ``SameSite=Lax``): it holds the principal's role and scope,
an expiry and a random CSRF token, never a token of the identity provider. A bearer key in the
``Authorization`` header always wins over the cookie, so platforms are unaffected.

Browsers attach cookies to requests that other sites trigger, so a write (any method but GET,
HEAD, OPTIONS) authenticated by the cookie must also carry the session's CSRF token in the
``X-Nengli-CSRF`` header, which another origin cannot read or set.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from starlette.requests import Request

from competency_model.errors import PermissionDenied
from service.auth import Principal

__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "end_session",
    "session_principal",
    "session_view",
    "start_session",
]

CSRF_HEADER = "X-Nengli-CSRF"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY = "nengli"


def _session(request: Request) -> dict[str, Any] | None:
    # request.session asserts when no SessionMiddleware is installed (sign-in switched off).
    return request.session if "session" in request.scope else None


def start_session(request: Request, principal: Principal, max_age_seconds: int) -> None:
    """Replace whatever the cookie held by ``principal``, with a new CSRF token."""
    session = _session(request)
    if session is None:
        raise RuntimeError("start_session needs SessionMiddleware (sign-in is not configured)")
    session.clear()  # also drops the sign-in's state and PKCE verifier
    session[_KEY] = {
        "key_id": principal.key_id,
        "role": principal.role,
        "scope": principal.scope,
        "expires": int(time.time()) + max_age_seconds,
        "csrf": secrets.token_urlsafe(24),
    }


def end_session(request: Request) -> None:
    """Forget the signed-in person (sign-out)."""
    session = _session(request)
    if session is not None:
        session.clear()


def _current(request: Request) -> dict[str, Any] | None:
    session = _session(request)
    if not session:
        return None
    stored = session.get(_KEY)
    if not isinstance(stored, dict) or stored.get("expires", 0) < time.time():
        return None
    return stored


def session_principal(request: Request) -> Principal | None:
    """The principal of a live session cookie, or None.

    Raises
    ------
    PermissionDenied
        A write authenticated by the cookie whose ``X-Nengli-CSRF`` header is missing or wrong.
    """
    stored = _current(request)
    if stored is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), str(stored["csrf"]).encode()):
            raise PermissionDenied(
                f"请求缺少有效的 {CSRF_HEADER} 头 / a signed-in write needs the {CSRF_HEADER} "
                "header of GET /auth/session"
            )
    return Principal(key_id=stored["key_id"], role=stored["role"], scope=stored["scope"])


def session_view(request: Request) -> dict[str, Any]:
    """What the dashboard needs to know about the session (no secrets but the CSRF token)."""
    stored = _current(request)
    if stored is None:
        return {"signed_in": False}
    return {
        "signed_in": True,
        "subject": str(stored["key_id"]).removeprefix("oidc:"),
        "role": stored["role"],
        "scope": stored["scope"],
        "expires_at": stored["expires"],
        "csrf_token": stored["csrf"],
    }
