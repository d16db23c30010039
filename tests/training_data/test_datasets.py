"""Real-data loaders: shapes and published statistics, checksum and location errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from competency_model.errors import DatasetError
from training_data.datasets import (
    DATASETS_ENV_VAR,
    load_ecpe,
    load_frcsub,
    load_movielens_100k,
    shared_datasets_dir,
    verify_checksum,
)


@pytest.mark.realdata
def test_frcsub_matches_source_md(shared_datasets: Path) -> None:
    responses, q_matrix = load_frcsub(shared_datasets)
    assert responses.shape == (536, 20) and q_matrix.shape == (20, 8)
    # Item proportions and mean total score quoted in frcsub/SOURCE.md.
    np.testing.assert_allclose(responses.mean(axis=0)[:3], [0.532, 0.576, 0.515], atol=5e-4)
    assert responses.sum(axis=1).mean() == pytest.approx(10.677, abs=1e-3)


@pytest.mark.realdata
def test_ecpe_matches_source_md(shared_datasets: Path) -> None:
    responses, q_matrix = load_ecpe(shared_datasets)
    assert responses.shape == (2922, 28) and q_matrix.shape == (28, 3)
    assert responses.mean() == pytest.approx(0.7146, abs=1e-4)
    assert q_matrix.sum(axis=0).tolist() == [13, 6, 18]


@pytest.mark.realdata
def test_movielens_matches_source_md(shared_datasets: Path) -> None:
    ratings = load_movielens_100k(shared_datasets)
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert len(ratings) == 100_000
    assert ratings["user_id"].nunique() == 943 and ratings["item_id"].nunique() == 1682
    assert ratings["rating"].value_counts().sort_index().tolist() == [
        6110,
        11370,
        27145,
        34174,
        21201,
    ]
    assert str(ratings["timestamp"].dtype).startswith("datetime64")


@pytest.mark.realdata
@pytest.mark.parametrize("loader", [load_frcsub, load_ecpe, load_movielens_100k])
def test_tampered_file_fails_the_checksum(
    shared_datasets: Path, tmp_path: Path, loader: object
) -> None:
    copy = tmp_path / "datasets"
    shutil.copytree(shared_datasets, copy, ignore=shutil.ignore_patterns("*.rda", "u.item"))
    for path in copy.rglob("*"):
        path.chmod(0o644) if path.is_file() else path.chmod(0o755)
    for name in ("frcsub/data.txt", "ecpe/ecpe.csv", "movielens-100k/u.data"):
        with (copy / name).open("ab") as handle:
            handle.write(b"\n")
    with pytest.raises(DatasetError, match="checksum mismatch"):
        loader(copy)  # type: ignore[operator]


def test_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="missing"):
        load_frcsub(tmp_path)


def test_verify_checksum_accepts_the_right_hash(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"abc")
    verify_checksum(path, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    with pytest.raises(DatasetError, match="checksum mismatch"):
        verify_checksum(path, "0" * 64)


def test_env_var_overrides_the_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATASETS_ENV_VAR, str(tmp_path))
    assert shared_datasets_dir() == tmp_path


def test_env_var_pointing_nowhere_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATASETS_ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(DatasetError, match=DATASETS_ENV_VAR):
        shared_datasets_dir()


@pytest.mark.realdata
def test_ecpe_q_matrix_that_differs_from_source_md_is_refused(
    shared_datasets: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "ecpe"
    copy.mkdir()
    shutil.copy(shared_datasets / "ecpe" / "ecpe.csv", copy / "ecpe.csv")
    lines = (shared_datasets / "ecpe" / "ecpe_qmatrix.csv").read_text().splitlines()
    lines[1] = "E1,1,1,1"  # one more skill on item 1
    (copy / "ecpe_qmatrix.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="does not match ecpe/SOURCE.md"):
        load_ecpe(tmp_path)
