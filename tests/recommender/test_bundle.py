"""The model bundle: one save and one load, and no broken model ever loads (issue 17, row 9)."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.errors import ModelError
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from recommender.artifacts import METADATA_NAME, file_sha256
from recommender.bundle import ModelBundle, load_bundle, load_recommender, save_bundle
from recommender.diagnosis.model import DiagnosisModel
from recommender.ranking import HybridRecommender
from training_data.simulator import simulate_province


@pytest.fixture(scope="module")
def trained() -> ModelBundle:
    """A small simulated province's diagnosis and recommender, fitted with fast settings."""
    province = simulate_province(120, 4, seed=5)
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    diagnosis = DiagnosisModel(max_iter=5).fit(
        province, load_item_bank(framework=framework), framework, catalog
    )
    recommender = HybridRecommender(iterations=3, factors=8, random_state=0).fit(
        province, diagnosis.diagnose(province), catalog, framework
    )
    return ModelBundle(diagnosis, recommender, {"purpose": "tests"})


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory, trained: ModelBundle) -> Path:  # type: ignore[no-untyped-def]
    return save_bundle(trained, tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture
def copy(bundle_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(bundle_dir, target)
    return target


def _metadata(directory: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((directory / METADATA_NAME).read_text(encoding="utf-8"))


def _write_metadata(directory: Path, metadata: object) -> None:
    (directory / METADATA_NAME).write_text(json.dumps(metadata), encoding="utf-8")


def _rewrite(directory: Path, name: str, change: Callable[[dict], None], describe: bool) -> None:  # type: ignore[type-arg]
    """Rewrite one archive and make its hash (and, if ``describe``, its shapes) consistent."""
    with np.load(directory / name, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    np.savez(directory / name, **arrays)
    metadata = _metadata(directory)
    metadata["files"][name] = file_sha256(directory / name)
    if describe:
        metadata["arrays"][name] = {
            key: {"dtype": value.dtype.str, "shape": list(value.shape)}
            for key, value in arrays.items()
        }
    _write_metadata(directory, metadata)


def test_round_trip_keeps_both_models(bundle_dir: Path, trained: ModelBundle) -> None:
    bundle = load_bundle(bundle_dir)
    assert bundle.version == bundle.recommender.model_version and len(bundle.version) == 16
    assert bundle.metadata["purpose"] == "tests" and bundle.model_dir == bundle_dir
    assert isinstance(bundle.diagnosis, DiagnosisModel)
    teacher = str(trained.recommender.teachers_.teacher_ids[10])
    original = trained.recommender.recommend(teacher, k=5)
    again = bundle.recommender.recommend(teacher, k=5)
    assert [r.item_id for r in again] == [r.item_id for r in original]


def test_metadata_lists_dtype_and_shape_of_every_array(bundle_dir: Path) -> None:
    described = _metadata(bundle_dir)["arrays"]
    assert set(described) == set(_metadata(bundle_dir)["files"])
    assert described["cf_als.npz"]["user_factors"]["shape"][0] == 120


def test_load_recommender_reads_the_same_recommender(bundle_dir: Path) -> None:
    assert load_recommender(bundle_dir).model_version == load_bundle(bundle_dir).version


@pytest.mark.parametrize("describe", [False, True], ids=["metadata-shapes", "consistent-metadata"])
def test_als_factors_of_the_wrong_shape_are_refused(copy: Path, describe: bool) -> None:
    def shrink(arrays: dict) -> None:  # type: ignore[type-arg]
        arrays["user_factors"] = np.ones((3, 2), dtype=arrays["user_factors"].dtype)

    _rewrite(copy, "cf_als.npz", shrink, describe)
    with pytest.raises(ModelError, match="user_factors") as info:
        load_bundle(copy)
    assert "(3, 2)" in info.value.message or "[3, 2]" in info.value.message


def test_an_array_of_another_dtype_is_refused(copy: Path) -> None:
    def retype(arrays: dict) -> None:  # type: ignore[type-arg]
        arrays["mastery"] = arrays["mastery"].astype(np.float32)

    _rewrite(copy, "mastery.npz", retype, describe=False)
    with pytest.raises(ModelError, match="dtype"):
        load_bundle(copy)


@pytest.mark.parametrize("document", [[], "model", 3, None], ids=["list", "str", "int", "null"])
def test_metadata_that_is_not_an_object_is_refused(copy: Path, document: object) -> None:
    _write_metadata(copy, document)
    with pytest.raises(ModelError, match="not an object"):
        load_bundle(copy)


def test_truncated_archive_with_its_hash_updated_is_refused(copy: Path) -> None:
    path = copy / "social.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    metadata = _metadata(copy)
    metadata["files"]["social.npz"] = file_sha256(path)
    _write_metadata(copy, metadata)
    with pytest.raises(ModelError, match="social.npz"):
        load_bundle(copy)


def test_an_archive_missing_an_array_is_refused(copy: Path) -> None:
    _rewrite(copy, "ranker.npz", lambda arrays: arrays.pop("warm_coef"), describe=True)
    with pytest.raises(ModelError, match="warm_coef"):
        load_bundle(copy)


def test_a_directory_without_diagnosis_is_refused(copy: Path) -> None:
    (copy / "diagnosis.npz").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_bundle(copy)


def test_archives_are_plain_zip_files_without_pickles(bundle_dir: Path) -> None:
    for path in bundle_dir.glob("*.npz"):
        with zipfile.ZipFile(path) as archive:
            assert all(name.endswith(".npy") for name in archive.namelist())
