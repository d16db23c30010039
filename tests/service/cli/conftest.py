"""Fixtures of the CLI command tests: a tiny simulated province on disk and a model directory
trained on it with small settings (no database involved).

The model is trained like ``nengli train`` (hybrid arrays + ``diagnosis.npz`` in one
sha256-verified directory) but with few EM and ALS iterations so the tests stay fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import Province, write_province
from recommender.bundle import ModelBundle, save_bundle
from recommender.diagnosis.model import DiagnosisModel
from recommender.ranking import HybridRecommender
from service.cli.main import main
from training_data.simulator import simulate_province


@dataclass(frozen=True)
class TrainedProvince:
    """A province written to ``data_dir`` and the model directory trained on it."""

    province: Province
    data_dir: Path
    model_dir: Path

    @property
    def teacher_id(self) -> str:
        """A teacher the model knows."""
        return str(self.province.teachers["teacher_id"].iloc[0])


@pytest.fixture(scope="session")
def trained_province(tmp_path_factory: pytest.TempPathFactory) -> TrainedProvince:
    """60 simulated teachers in 2 schools (seeded) and a model trained on them."""
    province = simulate_province(60, 2, seed=5)
    data_dir = tmp_path_factory.mktemp("cli_province")
    write_province(province, data_dir)
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    diagnosis = DiagnosisModel(max_iter=8).fit(
        province, load_item_bank(framework=framework), framework, catalog
    )
    recommender = HybridRecommender(iterations=3, factors=8, random_state=0).fit(
        province, diagnosis.diagnose(province), catalog, framework
    )
    model_dir = tmp_path_factory.mktemp("cli_model") / "model"
    save_bundle(ModelBundle(diagnosis, recommender, {"purpose": "cli tests"}), model_dir)
    return TrainedProvince(province, data_dir, model_dir)


@dataclass(frozen=True)
class MainResult:
    """What ``nengli`` printed and its exit code when run through :func:`main`."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture()
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the real entry point (which maps NengliError to exit 2) with ``args``."""

    def run(args: list[str]) -> MainResult:
        monkeypatch.setattr(sys, "argv", ["nengli", *args])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return MainResult(code, captured.out, captured.err)

    return run
