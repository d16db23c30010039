"""Fixtures of the service tests: one migrated database per backend per session, a running app
over it, API keys of every role and a small two-region world to test tenancy against.

SQLite always runs. PostgreSQL runs when ``NENGLI_TEST_POSTGRES_URL`` is set (``.ci/run`` sets
it); each session migrates into its own fresh schema and drops it afterwards, so parallel runs
on one server never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import Province
from recommender.bundle import ModelBundle, save_bundle
from recommender.diagnosis.model import DiagnosisModel
from recommender.ranking import HybridRecommender
from service.app import create_app
from service.auth import Principal, create_key
from service.db.stores.province import store_tables
from service.settings import Settings
from training_data.simulator import simulate_province

with warnings.catch_warnings():
    # Starlette warns at import time that it prefers httpx2; the client works the same.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

POSTGRES_ENV = "NENGLI_TEST_POSTGRES_URL"
REGION, OTHER_REGION = "江苏", "浙江"
N_TEACHERS, N_SCHOOLS = 120, 4


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"nengli_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated-on-first-use database URL: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'service.sqlite'}"
        return
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL variants of the service tests skipped")
    yield from _postgres_schema_url(base_url)


@pytest.fixture(scope="session")
def province() -> Province:
    """A small simulated province (seeded) that the session's models are trained on."""
    return simulate_province(N_TEACHERS, N_SCHOOLS, seed=3)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, province: Province) -> Path:
    """A model directory trained once per session with small, fast settings.

    Same layout as ``nengli train`` (recommender arrays + ``diagnosis.npz``), but fewer EM and
    ALS iterations so the whole service suite stays fast.
    """
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    diagnosis = DiagnosisModel(max_iter=8).fit(
        province, load_item_bank(framework=framework), framework, catalog
    )
    recommender = HybridRecommender(iterations=3, factors=8).fit(
        province, diagnosis.diagnose(province), catalog, framework
    )
    directory = tmp_path_factory.mktemp("model") / "model"
    save_bundle(ModelBundle(diagnosis, recommender, {"purpose": "service tests"}), directory)
    return directory


@pytest.fixture(scope="session")
def settings(database_url: str, model_dir: Path) -> Settings:
    """Settings of the app under test."""
    # No rate limit: the whole suite shares these keys (tests/service/api/test_hardening_limits.py
    # checks the limits on an app of its own).
    return Settings(
        database_url=database_url,
        model_dir=model_dir,
        max_body_bytes=2_000_000,
        rate_limit_per_minute=0,
        auth_failures_per_minute=0,
    )


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app over HTTP semantics (ASGI in-process); server errors surface as 500s."""
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Keys:
    """Tokens of every role for the tenancy world."""

    admin: str
    platform: str
    other_platform: str
    school: str
    teacher: str

    def header(self, role: str) -> dict[str, str]:
        """``Authorization`` header of ``role``."""
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@dataclass(frozen=True)
class World:
    """Ids of the tenancy world: own = visible to the platform/school/teacher keys."""

    school: str = "S000001"
    sibling_school: str = "S000002"  # same region, other school
    foreign_school: str = "S900001"  # other region
    teacher: str = "T0000001"  # in ``school``
    sibling_teacher: str = "T0000002"  # in ``sibling_school``
    foreign_teacher: str = "T9000001"  # in ``foreign_school``


@pytest.fixture(scope="session")
def keys(client: TestClient) -> Keys:
    """One key per role, created directly in the app's database."""
    state = client.app.state.nengli  # type: ignore[attr-defined]
    world = World()
    with state.sessions() as session:
        tokens = {
            "admin": create_key(session, "admin")[0],
            "platform": create_key(session, "platform", REGION)[0],
            "other_platform": create_key(session, "platform", OTHER_REGION)[0],
            "school": create_key(session, "school", world.school)[0],
            "teacher": create_key(session, "teacher", world.teacher)[0],
        }
        session.commit()
    return Keys(**tokens)


def put_school(client: TestClient, headers: dict[str, str], school_id: str, region: str) -> None:
    """Create a school and fail loudly if the API refuses."""
    body = {
        "region": region,
        "environment": "blended",
        "chosen_points": ["A1", "B2"],
        "urban_rural": "urban",
        "rollout_batch": 1,
    }
    response = client.put(f"/v1/schools/{school_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text


def put_teacher(
    client: TestClient, headers: dict[str, str], teacher_id: str, school_id: str
) -> None:
    """Create a teacher and fail loudly if the API refuses."""
    body = {
        "school_id": school_id,
        "stage": "小学",
        "subject": "数学",
        "years_of_service": 8,
        "research_group": "小学数学组",
    }
    response = client.put(f"/v1/teachers/{teacher_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def world(client: TestClient, keys: Keys, province: Province) -> World:
    """The simulated province (region 江苏) plus a foreign region, pushed through the API.

    The province rows go in directly (as an import would put them); the tenancy entities are
    then (re)written through ``PUT`` so their school assignments are known exactly.
    """
    ids = World()
    state = client.app.state.nengli  # type: ignore[attr-defined]
    with state.sessions() as session:
        store_tables(session, Principal("setup", "admin", None), province.tables())
        session.commit()
    admin = keys.header("admin")
    put_school(client, admin, ids.school, REGION)
    put_school(client, admin, ids.sibling_school, REGION)
    put_school(client, admin, ids.foreign_school, OTHER_REGION)
    put_teacher(client, admin, ids.teacher, ids.school)
    put_teacher(client, admin, ids.sibling_teacher, ids.sibling_school)
    put_teacher(client, admin, ids.foreign_teacher, ids.foreign_school)
    return ids


def assert_problem(response: object, status: int) -> dict[str, object]:
    """Assert an RFC 9457 problem with ``status`` and return its body."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body
