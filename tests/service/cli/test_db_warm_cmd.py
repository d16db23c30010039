"""``nengli db warm``: the dashboards' first-read work done ahead of the readers.

After warming, nothing of the region is stale (stored mastery, pairing summaries), the pairing
is stored, and a second run diagnoses nothing; a run killed half-way keeps its committed chunks
and the next run does only the rest; a region without schools is bad input (exit 2).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from competency_model.province import Province
from service.auth import Principal
from service.cli._common import served_state, service_state
from service.cli.main import app, run
from service.db.models import School
from service.db.scale_models import RegionPairing
from service.db.stores.mastery_store import stale_schools
from service.db.stores.pairing_store import stale_pairing_schools
from service.db.stores.province import store_tables
from service.settings import get_settings
from service.usecases import warm as warm_module
from service.usecases.warm import warm_region
from tests.service.conftest import POSTGRES_ENV, _postgres_schema_url
from training_data.simulator import simulate_province

runner = CliRunner()


@dataclass
class Warmable:
    region: str
    n_schools: int


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warmable(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Warmable]:
    """A fresh database holding a small province, named by the environment as a CLI sees it."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'warm.sqlite'}"])
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        urls = _postgres_schema_url(base)
    monkeypatch.setenv("NENGLI_DATABASE_URL", next(urls))
    monkeypatch.setenv("NENGLI_MODEL_DIR", str(model_dir))
    get_settings.cache_clear()
    province: Province = simulate_province(240, 10, seed=11)
    region = str(province.schools["region"].iloc[0])
    with service_state() as state, state.sessions() as session:
        store_tables(session, Principal("setup", "admin", None), province.tables())
        session.commit()
        n_schools = len(
            session.scalars(select(School.school_id).where(School.region == region)).all()
        )
    yield Warmable(region, n_schools)
    get_settings.cache_clear()
    for _rest in urls:  # drops the PostgreSQL schema
        pass


def _stale(region: str) -> tuple[list[str], list[str]]:
    with served_state() as state, state.sessions() as session:
        version = state.registry.require().version
        return (
            stale_schools(session, region, School.region == region, version),
            stale_pairing_schools(session, region, version),
        )


def test_warm_leaves_nothing_stale_and_a_second_run_diagnoses_nothing(
    warmable: Warmable,
) -> None:
    assert len(_stale(warmable.region)[0]) == warmable.n_schools
    result = runner.invoke(
        app, ["db", "warm", "--region", warmable.region, "--chunk-schools", "3", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["region"] == warmable.region
    assert report["schools_diagnosed"] == warmable.n_schools
    assert report["chunks"] == math.ceil(warmable.n_schools / 3)
    assert _stale(warmable.region) == ([], [])
    with service_state() as state, state.sessions() as session:
        assert session.get(RegionPairing, warmable.region) is not None
    again = runner.invoke(app, ["db", "warm", "--quiet"])  # every region with schools
    assert again.exit_code == 0, again.output
    reports = [json.loads(line) for line in again.stdout.strip().splitlines()]
    assert {r["region"] for r in reports} == {warmable.region}
    assert reports[0]["schools_diagnosed"] == 0 and reports[0]["chunks"] == 0


def test_a_run_killed_half_way_keeps_its_chunks_and_the_next_does_the_rest(
    warmable: Warmable, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = warm_module.refresh_mastery
    calls = {"n": 0}

    def dies_on_the_second_chunk(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as a killed process: nothing after this point runs
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(warm_module, "refresh_mastery", dies_on_the_second_chunk)
    with served_state() as state, pytest.raises(KeyboardInterrupt):
        warm_region(state, warmable.region, chunk_schools=4)
    assert len(_stale(warmable.region)[0]) == warmable.n_schools - 4
    monkeypatch.setattr(warm_module, "refresh_mastery", real)
    with served_state() as state:
        report = warm_region(state, warmable.region, chunk_schools=4)
    assert report.schools_diagnosed == warmable.n_schools - 4
    assert _stale(warmable.region) == ([], [])


def test_a_region_without_schools_is_bad_input(
    warmable: Warmable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "warm", "--region", "火星", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "火星" in err and "Traceback" not in err
