"""Fast row helpers for serving one teacher: copying sparse rows, ranking and standardising scores.

Serving one teacher must cost little more than scoring the catalog once; scipy's fancy indexing
and an n × n comparison would dominate a single request. Each helper documents the general
formula it replaces; ``tests/recommender/ranking/test_rows.py`` pins them to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["dense_rows", "share_below", "zscore_rows"]


def dense_rows(
    matrix: sp.spmatrix, rows: NDArray[np.int64], dtype: Any = np.float32
) -> NDArray[Any]:
    """``matrix[rows]`` as a dense array of ``dtype`` (duplicate entries summed, as ``todense``).

    For a CSR matrix and a handful of rows the rows are copied straight from
    ``indptr``/``indices``: scipy's fancy indexing builds intermediate sparse matrices, which
    for one teacher costs more than scoring every item.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if matrix.format != "csr" or len(rows) > 64:
        return np.asarray(matrix[rows].todense(), dtype=dtype)
    dense = np.zeros((len(rows), matrix.shape[1]), dtype=dtype)
    for out, row in enumerate(rows):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        np.add.at(dense[out], matrix.indices[start:stop], matrix.data[start:stop])
    return dense


def share_below(values: NDArray[np.float32]) -> NDArray[np.float64]:
    """Per entry, the share of entries strictly smaller (``(v[:, None] > v[None, :]).mean(1)``).

    A sort and a binary search give the same numbers in O(n log n) instead of an n × n
    comparison; NaN (never produced by the CF models) falls back to the comparison.
    """
    if np.isnan(values).any():
        return (values[:, None] > values[None, :]).mean(axis=1)
    ordered = np.sort(values)
    return np.searchsorted(ordered, values, side="left") / float(values.size)


def zscore_rows(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-teacher standardisation, so CF scores from users of any activity level compare."""
    mean = scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return ((scores - mean) / np.where(spread > 1e-9, spread, 1.0)).astype(np.float32)
