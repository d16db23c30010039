"""The one-teacher fast path of HybridRecommender gives exactly what the general path gave.

``recommend`` copies a teacher's sparse rows straight from CSR arrays (``dense_rows``) and
ranks CF scores by sorting (``share_below``) instead of scipy fancy indexing and an n × n
comparison. These tests pin both helpers to the formulas they replace and the whole
recommendation (items, scores, signals, reasons) to the output of the replaced formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recommender.ranking import serving
from recommender.ranking.rows import dense_rows as _dense_rows
from recommender.ranking.rows import share_below as _share_below


def _slow_dense_rows(matrix, rows, dtype=np.float32):  # type: ignore[no-untyped-def]
    return np.asarray(matrix[np.asarray(rows)].todense(), dtype=dtype)


def _slow_share_below(values):  # type: ignore[no-untyped-def]
    return (values[:, None] > values[None, :]).mean(axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_rows_equals_todense_with_duplicate_entries(dtype: type) -> None:
    rng = np.random.default_rng(3)
    rows = np.sort(rng.integers(0, 20, 200))
    cols = rng.integers(0, 30, 200)
    indptr = np.searchsorted(rows, np.arange(21))
    # Built from raw CSR arrays, so repeated (row, col) entries stay unsummed.
    matrix = sp.csr_matrix((rng.random(200), cols, indptr), shape=(20, 30))
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) < 200
    picked = np.array([0, 7, 7, 19])
    np.testing.assert_array_equal(
        _dense_rows(matrix, picked, dtype), _slow_dense_rows(matrix, picked, dtype)
    )


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.integers(1, 80), elements=st.floats(-5, 5, width=32)))
def test_share_below_equals_pairwise_comparison(values: np.ndarray) -> None:
    np.testing.assert_array_equal(_share_below(values), _slow_share_below(values))


@pytest.mark.parametrize("kind", ["course", "task"])
@pytest.mark.parametrize("personalized", [True, False])
def test_recommend_matches_the_general_formulas(
    fitted_hybrid, small_province, monkeypatch, kind: str, personalized: bool
) -> None:  # type: ignore[no-untyped-def]
    teachers = small_province.teachers["teacher_id"].astype(str).tolist()[:8]
    fast = [
        [
            r.model_dump()
            for r in fitted_hybrid.recommend(t, k=12, kind=kind, personalized=personalized)
        ]
        for t in teachers
    ]
    monkeypatch.setattr(serving, "dense_rows", _slow_dense_rows)
    monkeypatch.setattr(serving, "share_below", _slow_share_below)
    slow = [
        [
            r.model_dump()
            for r in fitted_hybrid.recommend(t, k=12, kind=kind, personalized=personalized)
        ]
        for t in teachers
    ]
    assert fast == slow
    assert any(fast)
