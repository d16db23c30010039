"""``nengli keys list|create|rotate|revoke``: the lifecycle from the shell, with its exit codes.

Commands run through :func:`service.cli.main.run`, the function the ``nengli`` entry point
exits with, so the codes are the ones a shell sees (0 done, 1 refused by a rule, 2 bad input);
one case also starts the real entry point as a process. SQLite always; PostgreSQL when
``NENGLI_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from competency_model.errors import AuthError
from service.auth import authenticate
from service.cli.main import run
from service.db.engine import make_engine, make_session_factory
from service.db.models import ApiKey
from service.settings import get_settings
from tests.service.cli.test_exit_codes import run_cli
from tests.service.cli.test_keys_db_cmd import _seed
from tests.service.conftest import POSTGRES_ENV, _postgres_schema_url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A seeded database (school S000001, teacher T0000001) named by NENGLI_DATABASE_URL.

    One per module and backend (migrating is the slow part); every test makes its own keys.
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("keys") / "keys.sqlite"
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL variant skipped")
        urls = _postgres_schema_url(base)
    url = next(urls)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NENGLI_DATABASE_URL", url)
        get_settings.cache_clear()
        _seed(url)
        yield url
    get_settings.cache_clear()
    for _ in urls:  # drops the PostgreSQL schema
        pass


def nengli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``nengli ARGS``."""
    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _works(url: str, token: str) -> bool:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            authenticate(session, f"Bearer {token}")
        return True
    except AuthError:
        return False
    finally:
        engine.dispose()


def _create(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[str, str]:
    code, out, err = nengli(
        capsys, "keys", "create", "--role", "platform", "--region", "江苏", *extra
    )
    assert code == 0, err
    token = out.strip()
    return token, token.split("_")[1]


def _listed(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    code, out, err = nengli(capsys, "keys", "list", "--json")
    assert code == 0, err
    return {item["key_id"]: item for item in json.loads(out)}


def test_list_shows_every_field_but_never_a_secret(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _create(capsys, "--label", "省平台", "--expires-in", "90d")
    listed = _listed(capsys)[key_id]
    assert set(listed) >= {
        "key_id",
        "label",
        "role",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "status",
    }
    assert (listed["label"], listed["role"], listed["scope"], listed["status"]) == (
        "省平台",
        "platform",
        "江苏",
        "active",
    )
    expires = datetime.fromisoformat(str(listed["expires_at"]))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    code, table, _ = nengli(capsys, "keys", "list")
    assert code == 0
    header = table.splitlines()[0].split()
    assert header[:4] == ["id", "label", "role", "scope"] and "used" in header
    assert key_id in table and "never" in table  # not used yet
    secret = token.split("_", 2)[2]
    assert secret not in table and secret not in json.dumps(_listed(capsys))


def test_create_with_expires_at_and_the_key_works_until_then(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _create(capsys, "--expires-at", "2099-07-01T08:00+08:00")
    assert _listed(capsys)[key_id]["expires_at"] == "2099-07-01T00:00:00+00:00"
    assert _works(database, token)
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_id == key_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    engine.dispose()
    assert not _works(database, token)
    assert _listed(capsys)[key_id]["status"] == "expired"


@pytest.mark.parametrize(
    "options",
    [
        ["--expires-in", "soon"],
        ["--expires-in", "0d"],
        ["--expires-at", "next tuesday"],
        ["--expires-at", "2001-01-01"],
        ["--expires-in", "1d", "--expires-at", "2099-01-01"],
    ],
)
def test_bad_expiry_exits_2_with_one_line(database: str, capsys, options: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, out, err = nengli(capsys, "keys", "create", "--role", "admin", *options)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_rotate_without_grace_refuses_the_old_secret(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    old, key_id = _create(capsys)
    code, out, err = nengli(capsys, "keys", "rotate", key_id)
    assert code == 0, err
    new = out.strip()
    assert new.split("_")[1] == key_id and new != old
    assert _works(database, new) and not _works(database, old)
    assert "refused" in err


def test_rotate_with_grace_keeps_the_old_secret_for_the_grace(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    old, key_id = _create(capsys)
    code, out, err = nengli(capsys, "keys", "rotate", key_id, "--grace", "24h")
    assert code == 0, err
    new = out.strip()
    assert _works(database, new) and _works(database, old)
    listed = _listed(capsys)[key_id]
    until = datetime.fromisoformat(str(listed["previous_valid_until"]))
    rotated = datetime.fromisoformat(str(listed["rotated_at"]))
    assert until - rotated == timedelta(hours=24)
    code, table, _ = nengli(capsys, "keys", "list")
    assert "old valid to" in table


def test_revoke_then_list_shows_it_revoked_and_the_key_is_refused(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    token, key_id = _create(capsys)
    code, out, _ = nengli(capsys, "keys", "revoke", key_id)
    assert code == 0 and out.startswith(f"revoked {key_id}")
    assert not _works(database, token)
    assert _listed(capsys)[key_id]["status"] == "revoked"
    code, out, _ = nengli(capsys, "keys", "list", "--json", "--active")
    assert key_id not in out
    # Rotating a revoked key is refused by rule: exit 1.
    code, out, err = nengli(capsys, "keys", "rotate", key_id)
    assert code == 1 and out == "" and "吊销" in err


@pytest.mark.parametrize("command", ["rotate", "revoke"])
def test_unknown_key_id_exits_2(database: str, capsys, command: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = nengli(capsys, "keys", command, "0123456789abcdef")
    assert code == 2 and out == ""
    assert "0123456789abcdef" in err and "nengli keys list" in err


def test_bad_grace_exits_2(database: str, capsys) -> None:  # type: ignore[no-untyped-def]
    _, key_id = _create(capsys)
    code, _, err = nengli(capsys, "keys", "rotate", key_id, "--grace", "a while")
    assert code == 2 and "--grace" in err


def test_unknown_id_exits_2_from_the_real_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'entry.sqlite'}"
    _seed(url)
    monkeypatch.setenv("NENGLI_DATABASE_URL", url)  # the child process inherits it
    result = run_cli("keys", "revoke", "feedfacefeedface")
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr and "feedfacefeedface" in result.stderr
