"""Property-based run over the OpenAPI schema: no generated request may cause a server error.

A separate app and database are used, so the junk the fuzzer writes never reaches the other
tests. The run is bounded (few examples per operation, no shrinking deadline) to stay fast.
Every response is also held to the schema's list of statuses (schemathesis'
``status_code_conformance``): an undeclared status is a failure, like a 500. The stateful phase
chains operations through the links schemathesis infers (PUT a school, then read it, …).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, status_code_conformance

from service.app import create_app
from service.auth import create_key
from service.settings import Settings

pytestmark = pytest.mark.slow

TOKENS: dict[str, str] = {}
CHECKS = [not_a_server_error, status_code_conformance]
EXAMPLES_PER_OPERATION = 5


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[object]:
    settings_ = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}",
        model_dir=model_dir,
        max_body_bytes=200_000,
        rate_limit_per_minute=0,  # the fuzzer is one key sending thousands of requests
    )
    app = create_app(settings_)
    app.state.nengli.registry.reload()
    with app.state.nengli.sessions() as session:
        TOKENS["admin"] = create_key(session, "admin")[0]
        TOKENS["platform"] = create_key(session, "platform", "江苏")[0]
        session.commit()
    yield app


@pytest.fixture(scope="module")
def schema(fuzz_app: object) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _headers(path: str) -> dict[str, str]:
    role = "admin" if path.startswith("/v1/admin") else "platform"
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def _check(case: schemathesis.Case) -> None:
    response = case.call(headers=_headers(case.path))
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    bounded = settings(
        max_examples=EXAMPLES_PER_OPERATION,
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


def test_stateful_sequences_have_no_server_errors(schema: Any) -> None:
    machine = schema.as_state_machine()
    assert machine.bundles, "schemathesis found no links between operations to chain"

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": _headers(case.path)}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            case.validate_response(response, checks=CHECKS)

    # The sequences run against one live database that earlier sequences (and the other fuzz
    # test) changed, so a rule's precondition — "a response to follow exists" — can differ
    # between two sequences Hypothesis drew alike, and Hypothesis then stops with
    # FlakyStrategyDefinition ("data generation depending on external state"; seen once in a
    # full local run, 2026-12-06). That is about the fuzzer's bookkeeping, not the server: a 5xx
    # or a response outside the schema fails through the assertions above. So such a stop is
    # run once more; a second one fails the test.
    for attempt in (1, 2):
        try:
            Sequences.run(
                settings=settings(
                    max_examples=12,
                    stateful_step_count=6,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
            )
            break
        except FlakyStrategyDefinition:
            if attempt == 2:
                raise
