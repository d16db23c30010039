"""The "also" list of issue 17: rate limits, no existence oracle, careful key creation, and a
connection that survives a 500."""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from service.app import create_app
from service.auth import create_key
from service.cli.main import app as cli
from service.settings import Settings, get_settings
from tests.service.conftest import Keys, TestClient, World, assert_problem


@pytest.fixture
def limited(tmp_path: Path, model_dir: Path) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'limited.sqlite'}",
        model_dir=model_dir,
        rate_limit_per_minute=60,
        rate_limit_burst=5,
        auth_failures_per_minute=3,
    )
    app = create_app(settings)
    with app.state.nengli.sessions() as session:
        token = create_key(session, "admin")[0]
        session.commit()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, token


def test_key_over_its_burst_gets_429_with_retry_after(limited) -> None:
    client, token = limited
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [client.get("/v1/me", headers=headers).status_code for _ in range(5)]

    response = client.get("/v1/me", headers=headers)

    assert statuses == [200] * 5
    problem = assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    assert problem["retry_after"] == int(response.headers["Retry-After"])


def test_wrong_keys_are_braked_per_client(limited) -> None:
    client, token = limited
    wrong = [
        client.get("/v1/me", headers={"Authorization": f"Bearer nl_{i:016x}_guess"}).status_code
        for i in range(3)
    ]

    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert wrong == [401] * 3
    assert_problem(response, 429)
    assert "Retry-After" in response.headers


def test_health_checks_are_not_limited(limited) -> None:
    client, _ = limited
    statuses = {client.get("/healthz").status_code for _ in range(10)}
    assert statuses == {200}


def test_school_key_cannot_tell_foreign_from_unused_teacher_ids(
    client, keys: Keys, world: World
) -> None:
    body = {"school_id": world.school, "stage": "小学", "subject": "数学"}
    unused = f"TU{uuid.uuid4().hex[:10]}"

    foreign = client.put(
        f"/v1/teachers/{world.foreign_teacher}", json=body, headers=keys.header("school")
    )
    fresh = client.put(f"/v1/teachers/{unused}", json=body, headers=keys.header("school"))

    first, second = assert_problem(foreign, 404), assert_problem(fresh, 404)
    assert first["detail"].replace(world.foreign_teacher, "X") == second["detail"].replace(
        unused, "X"
    )
    assert client.get(f"/v1/teachers/{unused}", headers=keys.header("admin")).status_code == 404


def test_school_key_import_of_unused_teacher_id_is_refused_like_a_foreign_one(
    client, keys: Keys, world: World
) -> None:
    header = "教师编号,学校编号,学段,学科,教龄\n"
    unused = f"TU{uuid.uuid4().hex[:10]}"

    responses = [
        client.post(
            "/v1/imports?filename=teachers.csv",
            content=f"{header}{teacher_id},{world.school},小学,数学,3\n".encode(),
            headers=keys.header("school"),
        )
        for teacher_id in (world.foreign_teacher, unused)
    ]

    assert [r.status_code for r in responses] == [404, 404]


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    monkeypatch.setenv("NENGLI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--role", "teacher", "--teacher", "T404"], "T404"),
        (["--role", "school", "--school", "S404"], "S404"),
        (["--role", "platform", "--region", "火星"], "火星"),
    ],
)
def test_keys_create_refuses_unknown_scope(cli_database: str, args: list[str], word: str) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", *args])

    assert result.exit_code != 0
    assert word in str(result.exception)


def test_keys_create_accepts_a_policy_region_without_schools(cli_database: str) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", "--role", "platform", "--region", "四川"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("nl_")


def test_keys_create_without_database_url_does_not_create_a_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NENGLI_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["keys", "create", "--role", "admin"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code != 0
    assert "NENGLI_DATABASE_URL" in str(result.exception)
    assert not (tmp_path / "var").exists()


def test_keys_create_exits_2_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.cli import main as cli_main

    monkeypatch.delenv("NENGLI_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["nengli", "keys", "create", "--role", "admin"])
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    get_settings.cache_clear()

    assert exit_info.value.code == 2
    assert "NENGLI_DATABASE_URL" in capsys.readouterr().err


@pytest.fixture
def served(tmp_path: Path, model_dir: Path) -> Iterator[int]:
    """The app with a route that fails, served by uvicorn on a loopback port of its own."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'served.sqlite'}", model_dir=model_dir)
    app: FastAPI = create_app(settings)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("deliberate failure")

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 30 s"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_connection_survives_a_500(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", "/boom")
    failed = connection.getresponse()
    failed_body = failed.read()
    socket_before = connection.sock

    connection.request("GET", "/healthz")
    healthy = connection.getresponse()
    healthy.read()

    assert failed.status == 500
    assert b"internal-error" in failed_body
    assert failed.getheader("connection") != "close"
    assert healthy.status == 200
    assert connection.sock is socket_before and socket_before is not None
    connection.close()
