"""Property-based run over the OpenAPI schema: no generated request may cause a server error.

A separate app and database are used, so the junk the fuzzer writes never reaches the other
tests. The run is bounded (few examples per operation, no shrinking deadline) to stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from service.app import create_app
from service.auth import create_key
from service.settings import Settings

pytestmark = pytest.mark.slow

TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[object]:
    settings_ = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}",
        model_dir=model_dir,
        max_body_bytes=200_000,
    )
    app = create_app(settings_)
    app.state.nengli.registry.reload()
    with app.state.nengli.sessions() as session:
        TOKENS["admin"] = create_key(session, "admin")[0]
        TOKENS["platform"] = create_key(session, "platform", "江苏")[0]
        session.commit()
    yield app


def _check(case: schemathesis.Case) -> None:
    role = "admin" if case.path.startswith("/v1/admin") else "platform"
    response = case.call(headers={"Authorization": f"Bearer {TOKENS[role]}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(fuzz_app: object, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    bounded = settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    skipped: list[str] = []
    for operation in operations:

        def run(case: schemathesis.Case) -> None:
            _check(case)

        try:
            given(case=operation.as_strategy(generation_mode=mode))(bounded(run))()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid variant to generate.
            assert mode is GenerationMode.NEGATIVE, operation.label
            skipped.append(operation.label)
    assert len(skipped) < len(operations) / 2, skipped
