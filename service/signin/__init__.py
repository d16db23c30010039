"""Sign-in through the province's identity provider (OpenID Connect, code flow with PKCE).

API keys stay for platforms; people sign in to the dashboard. ``mapping`` turns verified claims
into a :class:`~service.auth.Principal`; ``session`` keeps that principal in a signed cookie and
checks the CSRF token of cookie-authenticated writes; ``routes`` holds the login, callback,
logout and session endpoints.
"""

from service.signin.mapping import ClaimsMapping, load_claims_mapping, principal_from_claims

__all__ = ["ClaimsMapping", "load_claims_mapping", "principal_from_claims"]
