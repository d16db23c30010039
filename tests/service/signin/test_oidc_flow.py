"""Sign-in end to end over real HTTP: nengli ↔ a real OpenID Connect provider.

Each test walks the authorization-code flow with PKCE as a browser would (redirects, the
provider's login form, the callback) with an httpx client that keeps cookies, then uses the
session cookie against the API.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.service.signin.conftest import LiveServer

pytestmark = pytest.mark.slow


def _provider_login(
    client: httpx.Client, server: LiveServer, login: str, next_url: str = "/ui/"
) -> httpx.Response:
    """Start at /auth/login, submit the provider's login form, follow back to nengli."""
    start = client.get(f"{server.base_url}/auth/login", params={"next": next_url})
    assert start.status_code in (302, 303, 307), start.text
    authorize = urlsplit(start.headers["location"])
    query = parse_qs(authorize.query)
    # PKCE with S256 and a nonce are sent by the relying party, not left to chance.
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    page = client.get(start.headers["location"], follow_redirects=True)
    assert page.status_code == 200 and 'name="login"' in page.text
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action is not None
    return client.post(
        httpx.URL(str(page.url)).join(action.group(1)),
        data={"prompt": "login", "login": login, "password": "any"},
        follow_redirects=True,
    )


def test_a_teacher_signs_in_and_the_session_is_scoped_to_that_teacher(
    live_server: LiveServer,
) -> None:
    with httpx.Client() as client:
        landed = _provider_login(client, live_server, "zhang.teacher")
        assert landed.status_code == 200
        assert landed.url.path == "/ui/"  # back on the dashboard, the fragment kept client-side
        me = client.get(f"{live_server.base_url}/v1/me")
        assert me.status_code == 200
        assert me.json() == {"key_id": "oidc:zhang.teacher", "role": "teacher", "scope": "T0000001"}
        session = client.get(f"{live_server.base_url}/auth/session").json()
        assert session["enabled"] is True and session["signed_in"] is True
        assert (session["role"], session["scope"]) == ("teacher", "T0000001")
        # The cookie carries the role only, no provider token.
        cookie = client.cookies.get("nengli_session")
        assert cookie and "access_token" not in cookie


@pytest.mark.parametrize(
    ("login", "role", "scope"),
    [("li.principal", "school", "S000001"), ("wang.province", "platform", "江苏")],
)
def test_school_and_province_accounts_get_their_roles(
    live_server: LiveServer, login: str, role: str, scope: str
) -> None:
    with httpx.Client() as client:
        assert _provider_login(client, live_server, login).status_code == 200
        me = client.get(f"{live_server.base_url}/v1/me").json()
        assert (me["role"], me["scope"]) == (role, scope)


@pytest.mark.parametrize(
    ("login", "named"), [("zhao.parent", "家长"), ("qian.nosschool", "school_id")]
)
def test_an_account_whose_claims_map_to_no_role_is_refused(
    live_server: LiveServer, login: str, named: str
) -> None:
    with httpx.Client() as client:
        refused = _provider_login(client, live_server, login)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert named in refused.json()["detail"]
        assert client.get(f"{live_server.base_url}/v1/me").status_code == 401


def test_writes_with_the_cookie_need_the_csrf_token_and_logout_ends_the_session(
    live_server: LiveServer,
) -> None:
    with httpx.Client() as client:
        _provider_login(client, live_server, "zhang.teacher")
        csrf = client.get(f"{live_server.base_url}/auth/session").json()["csrf_token"]
        forged = client.post(f"{live_server.base_url}/auth/logout")
        assert forged.status_code == 403
        assert "X-Nengli-CSRF" in forged.json()["detail"]
        assert client.get(f"{live_server.base_url}/v1/me").status_code == 200
        done = client.post(f"{live_server.base_url}/auth/logout", headers={"X-Nengli-CSRF": csrf})
        assert done.status_code == 200
        assert client.get(f"{live_server.base_url}/v1/me").status_code == 401


def test_a_callback_with_a_forged_state_is_refused(live_server: LiveServer) -> None:
    with httpx.Client() as client:
        client.get(f"{live_server.base_url}/auth/login")  # a real state is in the cookie
        forged = client.get(
            f"{live_server.base_url}/auth/callback", params={"code": "x", "state": "forged"}
        )
        assert forged.status_code == 401
        assert client.get(f"{live_server.base_url}/v1/me").status_code == 401


def test_the_provider_refusing_is_a_clear_401(live_server: LiveServer) -> None:
    with httpx.Client() as client:
        refused = client.get(
            f"{live_server.base_url}/auth/callback",
            params={"error": "access_denied", "error_description": "End-User aborted interaction"},
        )
        assert refused.status_code == 401
        assert "access_denied" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/ui/index.html", "/ui/index.html"),
        ("https://evil.example/", "/ui/"),
        ("//evil.example/ui", "/ui/"),
        ("/v1/me", "/ui/"),
    ],
)
def test_sign_in_returns_to_the_dashboard_only(
    live_server: LiveServer, next_url: str, landing: str
) -> None:
    with httpx.Client() as client:
        landed = _provider_login(client, live_server, "zhang.teacher", next_url)
        assert landed.status_code == 200
        assert str(landed.url) == f"{live_server.base_url}{landing}"


def test_bearer_keys_still_win_over_the_cookie(live_server: LiveServer) -> None:
    with httpx.Client() as client:
        _provider_login(client, live_server, "zhang.teacher")
        wrong = client.get(
            f"{live_server.base_url}/v1/me", headers={"Authorization": "Bearer nl_bad_key"}
        )
        assert wrong.status_code == 401
