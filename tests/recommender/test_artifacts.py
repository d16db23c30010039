"""Model directories: round trip, hash verification, atomic replacement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from competency_model.errors import ModelError
from recommender.artifacts import load_model_dir, save_model_dir


@pytest.fixture
def model_dir(tmp_path, rng):
    arrays = {
        "cf.npz": {"factors": rng.normal(size=(4, 3)), "ids": np.array(["T1", "T2"])},
        "ranker.npz": {"coef": np.arange(3.0)},
    }
    return save_model_dir(
        tmp_path / "model", arrays, {"data_hash": "abc", "metrics": {"ndcg@10": 0.5}}
    ), arrays


def test_round_trip_keeps_arrays_and_metadata(model_dir):
    directory, arrays = model_dir
    loaded, metadata = load_model_dir(directory)
    np.testing.assert_array_equal(loaded["cf.npz"]["factors"], arrays["cf.npz"]["factors"])
    assert loaded["cf.npz"]["ids"].tolist() == ["T1", "T2"]
    assert metadata["data_hash"] == "abc"
    assert set(metadata["files"]) == {"cf.npz", "ranker.npz"}
    assert {"numpy", "implicit", "python"} <= set(metadata["versions"])


def test_tampered_file_raises_model_error(model_dir):
    directory, _ = model_dir
    path = directory / "ranker.npz"
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ModelError, match="sha256"):
        load_model_dir(directory)


@pytest.mark.parametrize("damage", ["delete_array", "delete_metadata", "extra_file", "bad_version"])
def test_incomplete_or_foreign_directory_raises_model_error(model_dir, damage):
    directory, _ = model_dir
    if damage == "delete_array":
        (directory / "cf.npz").unlink()
    elif damage == "delete_metadata":
        (directory / "metadata.json").unlink()
    elif damage == "extra_file":
        np.savez(directory / "intruder.npz", x=np.zeros(1))
    else:
        meta = json.loads((directory / "metadata.json").read_text())
        meta["format_version"] = 99
        (directory / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError):
        load_model_dir(directory)


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ModelError, match="dtype object"):
        save_model_dir(tmp_path / "m", {"a.npz": {"x": np.array([{"a": 1}], dtype=object)}}, {})


def test_saving_over_an_existing_directory_replaces_it_whole(model_dir):
    directory, _ = model_dir
    save_model_dir(directory, {"only.npz": {"x": np.ones(2)}}, {"data_hash": "new"})
    loaded, metadata = load_model_dir(directory)
    assert set(loaded) == {"only.npz"} and metadata["data_hash"] == "new"
    assert not any(p.name.startswith(".") for p in directory.parent.iterdir())


def test_large_arrays_are_memory_mapped_copy_on_write(tmp_path) -> None:
    """API workers share a model's big arrays: they load as maps, and writes stay private."""
    from recommender.artifacts import MMAP_MIN_BYTES, load_model_dir, save_model_dir

    big = np.arange(MMAP_MIN_BYTES // 4 + 10, dtype=np.float32).reshape(-1, 2)
    small = np.arange(5, dtype=np.int64)
    save_model_dir(tmp_path / "m", {"a.npz": {"big": big, "small": small}}, {"k": 1})
    arrays, _ = load_model_dir(tmp_path / "m")
    assert isinstance(arrays["a.npz"]["big"], np.memmap)
    assert not isinstance(arrays["a.npz"]["small"], np.memmap)
    np.testing.assert_array_equal(arrays["a.npz"]["big"], big)
    np.testing.assert_array_equal(arrays["a.npz"]["small"], small)
    arrays["a.npz"]["big"][0, 0] = -1.0  # copy-on-write: the file keeps its bytes
    again, _ = load_model_dir(tmp_path / "m")  # and its sha256 still verifies
    assert again["a.npz"]["big"][0, 0] == 0.0
