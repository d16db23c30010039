"""Social counts of a loaded model: shared copy-on-write maps, not private copies per worker.

Fold-in (and erasure) update the colleague and popularity counts in place. The counts of a
loaded model are the model file's copy-on-write maps, so API workers share their pages until
one of them writes; a write changes that worker's memory only, never the file or the other
workers' view.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recommender.artifacts as artifacts
from recommender.bundle import load_recommender, save_recommender


def _mapped(array: np.ndarray) -> bool:
    base = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return False


def test_loaded_counts_are_shared_maps_and_fold_in_leaves_the_file_alone(
    fitted_hybrid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = save_recommender(fitted_hybrid, tmp_path / "model")
    monkeypatch.setattr(artifacts, "MMAP_MIN_BYTES", 1)  # map every stored array
    model = load_recommender(directory)
    social = model.state_.social
    assert _mapped(social.school_took) and _mapped(social.group_took)
    before = np.array(social.item_took)
    teacher = str(model.state_.teachers.teacher_ids[0])
    taken = set(model.state_.took[0].indices.tolist())
    fresh = [str(i) for j, i in enumerate(model.state_.items.item_ids) if j not in taken][:2]
    model.fold_in(
        teacher,
        pd.DataFrame(
            {
                "item_id": fresh,
                "event": "complete",
                "value": np.nan,
                "timestamp": pd.Timestamp("2025-01-01"),
                "event_id": ["L1", "L2"],
            }
        ),
    )
    assert not np.array_equal(model.state_.social.item_took, before)  # written in place
    again = load_recommender(directory)  # the file, as another worker maps it
    np.testing.assert_array_equal(again.state_.social.item_took, before)
