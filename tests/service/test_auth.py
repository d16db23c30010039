"""API keys: shown once, stored hashed, scoped, revocable; reads are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from competency_model.errors import AuthError, NengliError
from service.audit import entries_for_teacher
from service.auth import KeyCache, authenticate, create_key, hash_secret, revoke_key
from service.db.models import ApiKey
from tests.service.conftest import Keys, World, assert_problem


def test_token_is_stored_only_as_hash(client) -> None:  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session:
        token, row = create_key(session, "school", "S000001")
        session.commit()
        stored = session.scalars(select(ApiKey).where(ApiKey.key_id == row.key_id)).one()
    secret = token.split("_", 2)[2]
    assert secret not in (stored.secret_hash, stored.key_id)
    assert stored.secret_hash == hash_secret(secret)


@pytest.mark.parametrize(("role", "scope"), [("platform", None), ("school", ""), ("wizard", "x")])
def test_key_needs_valid_role_and_scope(client, role: str, scope: str | None) -> None:  # type: ignore[no-untyped-def]
    with client.app.state.nengli.sessions() as session, pytest.raises(NengliError):
        create_key(session, role, scope)


def test_revoked_key_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        token, row = create_key(session, "platform", "江苏")
        session.commit()
        assert authenticate(session, f"Bearer {token}").scope == "江苏"
        revoke_key(session, row.key_id)
        session.commit()
        with pytest.raises(AuthError):
            authenticate(session, f"Bearer {token}")
    assert_problem(
        client.get("/v1/competencies", headers={"Authorization": f"Bearer {token}"}), 401
    )


def test_wrong_secret_is_refused(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    tampered = keys.platform[:-2] + ("AA" if not keys.platform.endswith("AA") else "BB")
    assert_problem(
        client.get("/v1/competencies", headers={"Authorization": f"Bearer {tampered}"}), 401
    )


def test_reading_a_teacher_is_audited(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        before = len(entries_for_teacher(session, world.sibling_teacher))
    assert (
        client.get(
            f"/v1/teachers/{world.sibling_teacher}", headers=keys.header("platform")
        ).status_code
        == 200
    )
    with state.sessions() as session:
        entries = entries_for_teacher(session, world.sibling_teacher)
    assert len(entries) == before + 1
    assert entries[-1].action == "read_teacher" and entries[-1].role == "platform"


def test_admin_only_reload(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    for role in ("platform", "school", "teacher"):
        assert_problem(client.post("/v1/admin/reload", headers=keys.header(role)), 403)


class _NoDatabase:
    """A session stand-in that fails on any query: proves an answer came from the cache."""

    def scalars(self, *_args: object, **_kwargs: object) -> None:
        raise AssertionError("the key cache should have answered without a query")


def test_key_cache_answers_a_verified_key_without_a_query(client) -> None:  # type: ignore[no-untyped-def]
    cache = KeyCache(ttl_seconds=60)
    with client.app.state.nengli.sessions() as session:
        token, _ = create_key(session, "school", "S000001")
        session.commit()
        first = cache.authenticate(session, f"Bearer {token}")
    assert cache.authenticate(_NoDatabase(), f"Bearer {token}") == first  # type: ignore[arg-type]


def test_key_cache_never_keeps_a_refused_key(client, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    cache = KeyCache(ttl_seconds=60)
    tampered = keys.platform[:-2] + ("AA" if not keys.platform.endswith("AA") else "BB")
    with client.app.state.nengli.sessions() as session:
        for _ in range(2):
            with pytest.raises(AuthError):
                cache.authenticate(session, f"Bearer {tampered}")


def test_key_cache_entry_expires_and_rereads_the_row(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cache = KeyCache(ttl_seconds=5)
    clock = [1000.0]
    monkeypatch.setattr("service.auth.time.monotonic", lambda: clock[0])
    with client.app.state.nengli.sessions() as session:
        token, row = create_key(session, "platform", "江苏")
        session.commit()
        cache.authenticate(session, f"Bearer {token}")
        # Revoked elsewhere (another process): this cache is not told, so the entry serves
        # until it expires, then the row is read again and the key refused.
        row.revoked_at = row.created_at
        session.commit()
        clock[0] += 4.0
        assert cache.authenticate(session, f"Bearer {token}").scope == "江苏"
        clock[0] += 2.0
        with pytest.raises(AuthError):
            cache.authenticate(session, f"Bearer {token}")


def test_revoking_in_process_takes_effect_at_once_over_http(client) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    with state.sessions() as session:
        token, row = create_key(session, "platform", "江苏")
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/competencies", headers=headers).status_code == 200
    with state.sessions() as session:
        assert revoke_key(session, row.key_id)
        session.commit()
    assert_problem(client.get("/v1/competencies", headers=headers), 401)


@pytest.mark.parametrize("role", ["admin", "platform", "school", "teacher"])
def test_me_names_the_calling_key_and_its_scope(
    client, keys: Keys, world: World, role: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/me", headers=keys.header(role))
    assert response.status_code == 200, response.text
    body = response.json()
    expected_scope = {
        "admin": None,
        "platform": "江苏",
        "school": world.school,
        "teacher": world.teacher,
    }[role]
    assert (body["role"], body["scope"]) == (role, expected_scope)
    assert getattr(keys, role).split("_")[1] == body["key_id"]


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic abc", "Bearer nl_nope_nope", "bearer   "]
)
def test_missing_or_malformed_keys_are_401_problems(client, header: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header is not None else {}
    assert_problem(client.get("/v1/me", headers=headers), 401)
