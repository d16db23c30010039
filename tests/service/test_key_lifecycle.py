"""API key lifecycle: expiry, rotation with a grace period, revocation, last-used time.

The HTTP cases run through the session's app on SQLite and, when ``NENGLI_TEST_POSTGRES_URL``
is set, PostgreSQL (the ``client`` fixture is parametrised over both).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from competency_model.errors import ConflictError
from service.auth import KeyCache, create_key, revoke_key, rotate_key, verify
from service.db.models import ApiKey, AuditEntry
from service.key_usage import KeyUsage, write_last_used
from tests.service.conftest import Keys, assert_problem


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _new_key(client: Any, **kwargs: Any) -> tuple[str, str]:
    with client.app.state.nengli.sessions() as session:
        token, row = create_key(session, "platform", "江苏", **kwargs)
        session.commit()
        return token, row.key_id


def _set(client: Any, key_id: str, **values: Any) -> None:
    """Change a key's row as another process would (this process's caches are not told)."""
    state = client.app.state.nengli
    with state.sessions() as session:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(**values))
        session.commit()


def _row(client: Any, key_id: str) -> ApiKey:
    with client.app.state.nengli.sessions() as session:
        row = session.get(ApiKey, key_id)
        assert row is not None
        session.expunge(row)
        return row


def _refusal(client: Any, token: str, reason: str) -> dict[str, object]:
    body = assert_problem(client.get("/v1/me", headers=_bearer(token)), 401)
    assert body["reason"] == reason, body
    return body


# --- expiry -----------------------------------------------------------------------------------


def test_expired_key_answers_401_with_a_chinese_first_reason(client) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _new_key(client, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert client.get("/v1/me", headers=_bearer(token)).status_code == 200
    _set(client, key_id, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    KeyCache.forget_everywhere()
    body = _refusal(client, token, "expired")
    assert str(body["detail"]).startswith(f"API 密钥 {key_id} 已于") and "expired at" in str(
        body["detail"]
    )


def test_creating_an_already_expired_key_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session, pytest.raises(Exception, match="将来"):
        create_key(session, "admin", expires_at=datetime.now(UTC) - timedelta(seconds=1))


def test_cache_entry_never_outlives_the_keys_expiry(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [1000.0]
    monkeypatch.setattr("service.auth.time.monotonic", lambda: clock[0])
    cache = KeyCache(ttl_seconds=3600)
    token, _ = _new_key(client, expires_at=datetime.now(UTC) + timedelta(seconds=30))
    with client.app.state.nengli.sessions() as session:
        cache.authenticate(session, f"Bearer {token}")
    clock[0] += 20
    assert cache.cached(f"Bearer {token}") is not None
    clock[0] += 11  # past the expiry, long before the TTL: the row must be read again
    assert cache.cached(f"Bearer {token}") is None


# --- revocation -------------------------------------------------------------------------------


def test_revoked_key_with_the_right_secret_is_told_it_is_revoked(client) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _new_key(client)
    with client.app.state.nengli.sessions() as session:
        assert revoke_key(session, key_id)
        session.commit()
    body = _refusal(client, token, "revoked")
    assert str(body["detail"]).startswith("API 密钥") and "吊销" in str(body["detail"])


def test_a_wrong_secret_learns_nothing_about_the_key(client) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _new_key(client)
    with client.app.state.nengli.sessions() as session:
        revoke_key(session, key_id)
        session.commit()
    body = _refusal(client, token[:-3] + ("xyz" if not token.endswith("xyz") else "abc"), "invalid")
    assert key_id not in str(body["detail"]) and "吊销" not in str(body["detail"])


# --- rotation ---------------------------------------------------------------------------------


def test_rotation_without_grace_refuses_the_old_secret_at_once(client) -> None:  # type: ignore[no-untyped-def]
    old, key_id = _new_key(client)
    assert client.get("/v1/me", headers=_bearer(old)).status_code == 200  # cached now
    with client.app.state.nengli.sessions() as session:
        rotated = rotate_key(session, key_id)
        session.commit()
    assert rotated is not None
    new = rotated[0]
    assert new != old and new.split("_")[1] == key_id
    _refusal(client, old, "rotated")
    me = client.get("/v1/me", headers=_bearer(new))
    assert me.status_code == 200 and me.json()["key_id"] == key_id


def test_rotation_with_grace_accepts_both_secrets_until_the_grace_ends(client) -> None:  # type: ignore[no-untyped-def]
    old, key_id = _new_key(client)
    with client.app.state.nengli.sessions() as session:
        rotated = rotate_key(session, key_id, timedelta(hours=24))
        session.commit()
    assert rotated is not None
    new = rotated[0]
    for token in (old, new):
        assert client.get("/v1/me", headers=_bearer(token)).status_code == 200
    row = _row(client, key_id)
    assert row.previous_valid_until is not None and row.rotated_at is not None
    assert row.previous_valid_until - row.rotated_at == timedelta(hours=24)
    # The grace period ends (written as if 24 h had passed).
    _set(client, key_id, previous_valid_until=datetime.now(UTC) - timedelta(seconds=1))
    KeyCache.forget_everywhere()
    body = _refusal(client, old, "rotated")
    assert "轮换" in str(body["detail"])
    assert client.get("/v1/me", headers=_bearer(new)).status_code == 200


def test_a_second_rotation_ends_the_first_grace_at_once(client) -> None:  # type: ignore[no-untyped-def]
    first, key_id = _new_key(client)
    with client.app.state.nengli.sessions() as session:
        second = rotate_key(session, key_id, timedelta(hours=1))
        third = rotate_key(session, key_id, timedelta(hours=1))
        session.commit()
    assert second is not None and third is not None
    _refusal(client, first, "invalid")  # only the latest previous secret is remembered
    for token in (second[0], third[0]):
        assert client.get("/v1/me", headers=_bearer(token)).status_code == 200


def test_revoked_or_expired_keys_cannot_be_rotated(client) -> None:  # type: ignore[no-untyped-def]
    _, revoked = _new_key(client)
    _, expired = _new_key(client, expires_at=datetime.now(UTC) + timedelta(hours=1))
    _set(client, expired, expires_at=datetime.now(UTC) - timedelta(hours=1))
    with client.app.state.nengli.sessions() as session:
        revoke_key(session, revoked)
        session.commit()
        for key_id in (revoked, expired):
            with pytest.raises(ConflictError):
                rotate_key(session, key_id, timedelta(hours=1))


def test_the_old_secret_is_cached_no_longer_than_its_grace(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [5000.0]
    monkeypatch.setattr("service.auth.time.monotonic", lambda: clock[0])
    old, key_id = _new_key(client)
    with client.app.state.nengli.sessions() as session:
        rotate_key(session, key_id, timedelta(seconds=30))
        session.commit()
        principal, until = verify(session, f"Bearer {old}")
        assert until is not None and until <= datetime.now(UTC) + timedelta(seconds=30)
        cache = KeyCache(ttl_seconds=3600)
        cache.authenticate(session, f"Bearer {old}")
    clock[0] += 31
    assert cache.cached(f"Bearer {old}") is None


# --- last used --------------------------------------------------------------------------------


@pytest.fixture
def api_key_updates(client) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every ``UPDATE api_keys`` statement the app's engine runs while the test runs."""
    engine = client.app.state.nengli.engine
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    yield seen
    event.remove(engine, "before_cursor_execute", listen)


def test_last_used_is_written_once_per_interval_not_per_request(client, api_key_updates) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _new_key(client)
    assert _row(client, key_id).last_used_at is None
    before = datetime.now(UTC)
    for _ in range(5):
        assert client.get("/v1/me", headers=_bearer(token)).status_code == 200
    used = _row(client, key_id).last_used_at
    assert used is not None and used >= before - timedelta(seconds=1)
    assert len(api_key_updates) == 1, api_key_updates


def test_last_used_is_written_again_after_the_interval(
    client, monkeypatch, api_key_updates
) -> None:  # type: ignore[no-untyped-def]
    clock = [100.0]
    monkeypatch.setattr("service.key_usage.time.monotonic", lambda: clock[0])
    token, key_id = _new_key(client)
    client.get("/v1/me", headers=_bearer(token))
    first = _row(client, key_id).last_used_at
    clock[0] += 61
    client.get("/v1/me", headers=_bearer(token))
    second = _row(client, key_id).last_used_at
    assert len(api_key_updates) == 2
    assert first is not None and second is not None and second >= first


def test_only_one_of_many_concurrent_requests_claims_the_write() -> None:
    usage = KeyUsage(interval_seconds=60)
    start = threading.Barrier(16)
    claims: list[datetime | None] = []
    lock = threading.Lock()

    def request() -> None:
        start.wait()
        for _ in range(50):
            claimed = usage.claim("k1")
            with lock:
                claims.append(claimed)

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 800
    assert sum(claim is not None for claim in claims) == 1


def test_last_used_never_moves_backwards(client) -> None:  # type: ignore[no-untyped-def]
    _, key_id = _new_key(client)
    later = datetime.now(UTC)
    earlier = later - timedelta(minutes=5)
    with client.app.state.nengli.sessions() as session:
        assert write_last_used(session, key_id, later)
        # Another worker's older stamp landing last changes nothing.
        assert not write_last_used(session, key_id, earlier)
    assert _row(client, key_id).last_used_at == later


def test_flush_writes_uses_seen_since_the_last_write(client) -> None:  # type: ignore[no-untyped-def]
    _, key_id = _new_key(client)
    usage = KeyUsage(interval_seconds=3600)
    state = client.app.state.nengli
    with state.sessions() as session:
        first = usage.claim(key_id)
        assert first is not None and usage.write(session, key_id, first)
    assert usage.claim(key_id) is None  # inside the interval: nothing written
    assert set(usage.pending()) == {key_id}
    assert usage.flush(state.engine) == 1
    assert usage.pending() == {}
    stored = _row(client, key_id).last_used_at
    assert stored is not None and stored > first


# --- admin HTTP -------------------------------------------------------------------------------


def test_admin_lists_keys_without_any_secret(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _new_key(client, label="省平台")
    response = client.get("/v1/admin/keys", headers=keys.header("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"]) >= 6
    mine = next(item for item in body["data"] if item["key_id"] == key_id)
    assert (mine["label"], mine["role"], mine["scope"], mine["status"]) == (
        "省平台",
        "platform",
        "江苏",
        "active",
    )
    secret = token.split("_", 2)[2]
    assert secret not in response.text and "secret" not in response.text
    assert keys.admin.split("_", 2)[2] not in response.text


@pytest.mark.parametrize("role", ["platform", "school", "teacher"])
def test_key_routes_need_an_admin_key(client, keys: Keys, role: str) -> None:  # type: ignore[no-untyped-def]
    headers = keys.header(role)
    assert_problem(client.get("/v1/admin/keys", headers=headers), 403)
    assert_problem(client.post("/v1/admin/keys", json={"role": "admin"}, headers=headers), 403)
    own = getattr(keys, role).split("_")[1]
    assert_problem(client.post(f"/v1/admin/keys/{own}/revoke", headers=headers), 403)


def test_admin_creates_rotates_and_revokes_over_http_and_each_is_audited(  # type: ignore[no-untyped-def]
    client, keys: Keys
) -> None:
    admin = keys.header("admin")
    created = client.post(
        "/v1/admin/keys",
        json={"role": "platform", "scope": "江苏", "label": "集成", "expires_in": "90d"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    issued = created.json()
    key_id, token = issued["key"]["key_id"], issued["token"]
    expires = datetime.fromisoformat(issued["key"]["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    assert issued["key"]["created_by"] == keys.admin.split("_")[1]
    assert client.get("/v1/me", headers=_bearer(token)).status_code == 200

    rotated = client.post(f"/v1/admin/keys/{key_id}/rotate", json={"grace": "1h"}, headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["token"]
    assert client.get("/v1/me", headers=_bearer(token)).status_code == 200  # in its grace
    assert client.get("/v1/me", headers=_bearer(new)).status_code == 200

    revoked = client.post(f"/v1/admin/keys/{key_id}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    for refused in (token, new):
        _refusal(client, refused, "revoked")

    with client.app.state.nengli.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.detail.like(f"{key_id}%"))
        ).all()
    assert sorted(actions) == ["key_create", "key_revoke", "key_rotate"]


def test_rotating_a_revoked_key_over_http_is_a_409(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    _, key_id = _new_key(client)
    admin = keys.header("admin")
    assert client.post(f"/v1/admin/keys/{key_id}/revoke", headers=admin).status_code == 200
    assert_problem(client.post(f"/v1/admin/keys/{key_id}/rotate", json={}, headers=admin), 409)


@pytest.mark.parametrize("action", ["rotate", "revoke"])
def test_unknown_key_id_over_http_is_a_404(client, keys: Keys, action: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/admin/keys/ffffffff/{action}", json={}, headers=keys.header("admin")
    )
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"role": "admin", "expires_in": "soon"}, 422),
        ({"role": "admin", "expires_in": "1d", "expires_at": "2099-01-01T00:00:00Z"}, 400),
        ({"role": "admin", "expires_at": "2001-01-01T00:00:00Z"}, 400),
        ({"role": "school", "scope": "S_NOPE"}, 404),
    ],
)
def test_bad_key_requests_are_problems(
    client, keys: Keys, body: dict[str, str], status: int
) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.post("/v1/admin/keys", json=body, headers=keys.header("admin")), status)


@pytest.mark.parametrize("action", ["rotate", "revoke"])
def test_an_admin_cannot_rotate_or_revoke_the_key_it_calls_with(
    client, keys: Keys, action: str
) -> None:  # type: ignore[no-untyped-def]
    own = keys.admin.split("_")[1]
    response = client.post(f"/v1/admin/keys/{own}/{action}", json={}, headers=keys.header("admin"))
    assert "nengli keys" in str(assert_problem(response, 409)["detail"])
    assert client.get("/v1/me", headers=keys.header("admin")).status_code == 200
