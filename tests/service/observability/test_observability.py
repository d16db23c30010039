"""Metrics, request ids, JSON logs and a readiness probe that shows internals to admins only."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.auth import create_key
from service.observability import configure_logging
from service.settings import Settings
from tests.service.conftest import Keys, TestClient, World, assert_problem


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if series == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
        if (
            labels
            and series.startswith(name + "{")
            and all(f'{k}="{v}"' in series for k, v in labels.items())
            and series.count("=") == len(labels)
        ):
            return float(value)
    return 0.0


def _metrics(client: TestClient, keys: Keys) -> str:
    response = client.get("/metrics", headers=keys.header("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_requests_are_counted_per_route_template(client, keys: Keys, world: World) -> None:
    route = "/v1/teachers/{teacher_id}"
    before = _sample(
        _metrics(client, keys),
        "nengli_http_requests_total",
        method="GET",
        route=route,
        status="200",
    )
    for teacher in (world.teacher, world.teacher, world.sibling_teacher):
        assert (
            client.get(f"/v1/teachers/{teacher}", headers=keys.header("admin")).status_code == 200
        )
    text = _metrics(client, keys)
    after = _sample(text, "nengli_http_requests_total", method="GET", route=route, status="200")
    assert after - before == 3
    assert world.teacher not in text  # templates, never ids
    assert (
        _sample(text, "nengli_http_request_duration_seconds_count", method="GET", route=route) >= 3
    )


def test_model_version_and_ranking_cache_are_exposed(client, keys: Keys, world: World) -> None:
    url = f"/v1/teachers/{world.teacher}/recommendations?kind=course&k=3"
    for _ in range(2):
        assert client.get(url, headers=keys.header("admin")).status_code == 200
    text = _metrics(client, keys)
    version = client.app.state.nengli.registry.current.version
    assert _sample(text, "nengli_model_info", version=version) == 1.0
    cache = client.app.state.nengli.ranking_cache
    assert _sample(text, "nengli_ranking_cache_lookups_total", result="hit") == cache.hits >= 1
    assert _sample(text, "nengli_ranking_cache_lookups_total", result="miss") == cache.misses


def test_import_rows_are_counted(client, keys: Keys, world: World) -> None:
    before = _metrics(client, keys)
    csv = "teacher_id,school_id,stage,subject\nT0000001,S000001,小学,数学\nTX,SNOPE,小学,数学\n"
    response = client.post(
        "/v1/imports",
        files={"file": ("teachers.csv", csv.encode(), "text/csv")},
        headers=keys.header("admin"),
    )
    assert response.status_code == 200, response.text
    after = _metrics(client, keys)
    for outcome in ("stored", "rejected"):
        delta = _sample(
            after, "nengli_import_rows_total", table="teachers", outcome=outcome
        ) - _sample(before, "nengli_import_rows_total", table="teachers", outcome=outcome)
        expected = response.json()["accepted" if outcome == "stored" else "rejected"]
        assert delta == expected, outcome
    assert response.json()["rejected"] >= 1


def test_metrics_need_an_admin_key(client, keys: Keys) -> None:
    assert_problem(client.get("/metrics"), 401)
    assert_problem(client.get("/metrics", headers=keys.header("platform")), 403)
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_can_be_opened_for_a_private_scraper(tmp_path: Path, model_dir: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'm.sqlite'}", model_dir=model_dir, metrics_public=True
    )
    with TestClient(create_app(settings)) as open_client:
        assert open_client.get("/metrics").status_code == 200


def test_request_id_is_echoed_or_generated(client, keys: Keys) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"})
    assert given.headers["x-request-id"] == "lb-7f3a.1"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": 'a"b c' * 40})
    assert hostile.headers["x-request-id"] != 'a"b c' * 40
    refused = client.get("/v1/me")  # 401 from the key dependency: still answered with an id
    assert refused.status_code == 401 and refused.headers["x-request-id"]


@pytest.fixture
def logged(tmp_path: Path, model_dir: Path) -> Iterator[tuple[TestClient, io.StringIO, str]]:
    stream = io.StringIO()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'logs.sqlite'}", model_dir=model_dir, access_log=True
    )
    app = create_app(settings)
    configure_logging("INFO", stream=stream)  # the same JSON handler, writing where we can read
    with app.state.nengli.sessions() as session:
        token = create_key(session, "admin")[0]
        session.commit()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stream, token
    configure_logging("INFO")


def test_every_line_of_a_request_is_json_with_its_request_id(logged) -> None:
    client, stream, token = logged
    stream.truncate(0)
    stream.seek(0)
    logging.getLogger("nengli.test").info("inside a request? no")
    response = client.get(
        "/readyz", headers={"X-Request-ID": "req-42", "Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (200, 503)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert lines, "nothing was logged"
    assert all({"event", "level", "timestamp", "logger"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "nengli.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-42" and access[0]["route"] == "/readyz"
    assert access[0]["status"] == response.status_code and access[0]["ms"] >= 0
    assert token not in stream.getvalue()


def test_a_server_error_quotes_the_request_id(logged, monkeypatch: pytest.MonkeyPatch) -> None:
    client, stream, token = logged
    import service.api.routes.health as health

    def boom(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "optional_principal", boom)
    response = client.get("/readyz", headers={"X-Request-ID": "req-500"})
    problem = assert_problem(response, 500)
    assert problem["correlation_id"] == "req-500"
    error_lines = [
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if line.strip() and '"level": "error"' in line
    ]
    assert error_lines and all(line["request_id"] == "req-500" for line in error_lines)
    assert "boom" in error_lines[0].get("exception", "")


def test_readyz_shows_no_internals_to_anonymous_callers(client, keys: Keys) -> None:
    anonymous = client.get("/readyz")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready"}
    for role in ("platform", "school"):
        assert client.get("/readyz", headers=keys.header(role)).json() == {"status": "ready"}
    wrong = client.get("/readyz", headers={"Authorization": "Bearer nl_0000_wrong"})
    assert wrong.json() == {"status": "ready"}
    admin = client.get("/readyz", headers=keys.header("admin")).json()
    assert admin["status"] == "ready" and admin["database"] == "ok"
    assert admin["model"]["loaded"] is True and "ranking_cache" in admin


def test_readyz_still_answers_503_without_a_model(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'r.sqlite'}", model_dir=tmp_path / "no-model"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as bare:
        response = bare.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "not ready"}


def test_uvicorns_no_access_log_is_kept() -> None:
    """``uvicorn --no-access-log`` (no handlers, no propagation) stays off; else it propagates."""
    access = logging.getLogger("uvicorn.access")
    saved = (access.handlers[:], access.propagate, access.level)
    stream = io.StringIO()
    try:
        access.handlers, access.propagate = [], False  # what uvicorn's Config does for the flag
        access.setLevel(logging.INFO)
        configure_logging("INFO", stream=stream)
        access.info("GET /v1/me 200")
        assert stream.getvalue() == "" and access.propagate is False
        access.propagate = True  # uvicorn left it on: its lines go to the JSON handler
        configure_logging("INFO", stream=stream)
        access.info("GET /v1/me 200")
        assert json.loads(stream.getvalue())["event"] == "GET /v1/me 200"
    finally:
        access.handlers, access.propagate = saved[0], saved[1]
        access.setLevel(saved[2])
        configure_logging("INFO")
