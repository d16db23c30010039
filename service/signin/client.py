"""The relying-party side of sign-in: one Authlib client per app, built from the settings.

Authlib does the protocol work that is easy to get subtly wrong (state, nonce, PKCE S256, the ID
token's signature against the provider's JWKS, issuer and audience checks); nengli only decides
what the verified claims mean (:mod:`service.signin.mapping`).
"""

from __future__ import annotations

import warnings
from typing import Any

import authlib.deprecate  # noqa: F401  (installs Authlib's "always" filter before ours)
from starlette.requests import Request
from starlette.responses import Response

from competency_model.errors import AuthError
from service.settings import Settings
from service.signin.mapping import ClaimsMapping, load_claims_mapping

# Authlib 1.9 warns about its own httpx integration when the Starlette client imports it (a
# note to Authlib's users of httpx_client, which nengli is not); a person starting the demo or
# the server would read it as nengli's problem. Authlib puts an "always" filter for its
# warnings in front when first imported, hence the import of ``authlib.deprecate`` above.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="The httpx module is deprecated", category=DeprecationWarning
    )
    from authlib.integrations.starlette_client import OAuth, OAuthError

__all__ = ["SignIn"]

_CLIENT_NAME = "province"


class SignIn:
    """Sign-in configuration of one app: the OIDC client and the claims mapping.

    Parameters
    ----------
    settings
        Settings with ``oidc_issuer``, ``oidc_client_id`` and ``oidc_claims_mapping`` set (the
        settings model refuses an incomplete configuration).

    Raises
    ------
    NengliError
        The claims mapping file is missing or invalid (at start-up, not at the first sign-in).
    """

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_claims_mapping  # guaranteed by Settings
        self.mapping: ClaimsMapping = load_claims_mapping(settings.oidc_claims_mapping)
        self.redirect_url = settings.oidc_redirect_url
        self.max_age_seconds = settings.session_max_age_seconds
        secret = settings.oidc_client_secret
        oauth = OAuth()
        oauth.register(
            _CLIENT_NAME,
            client_id=settings.oidc_client_id,
            client_secret=secret,
            server_metadata_url=(
                settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
            ),
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            },
        )
        self._client = oauth.create_client(_CLIENT_NAME)

    async def redirect(self, request: Request, callback_url: str) -> Response:
        """The redirect to the provider's authorisation endpoint (state, nonce, PKCE kept in the
        session cookie)."""
        try:
            response: Response = await self._client.authorize_redirect(
                request, self.redirect_url or callback_url
            )
        except (OSError, OAuthError) as error:  # provider unreachable or its metadata broken
            raise AuthError(
                f"身份提供方不可用 / the identity provider cannot be reached: {error}"
            ) from error
        return response

    async def claims(self, request: Request) -> dict[str, Any]:
        """Exchange the callback's code and return the verified ID-token and userinfo claims.

        Raises
        ------
        AuthError
            The provider refused, the state or PKCE check failed, or the ID token did not verify.
        """
        if "error" in request.query_params:
            raise AuthError(
                "身份提供方拒绝了登录 / the identity provider refused the sign-in: "
                f"{request.query_params.get('error')}: "
                f"{request.query_params.get('error_description', '')}".rstrip(": ")
            )
        try:
            token = await self._client.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
            if "access_token" in token:
                userinfo = dict(await self._client.userinfo(token=token))
                if claims.get("sub") not in (None, userinfo.get("sub")):
                    raise AuthError("userinfo 'sub' differs from the ID token's 'sub'")
                claims.update(userinfo)
        except OAuthError as error:
            raise AuthError(
                f"登录未完成 / sign-in failed: {error.error}: {error.description or ''}".rstrip(
                    ": "
                )
            ) from error
        return claims
