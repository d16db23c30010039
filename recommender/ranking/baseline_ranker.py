"""A simple baseline as a ranker, so the model selection can fall back to it.

The fit's model selection (:mod:`recommender.ranking.selection`) compares the learned blends with
the strong simple baselines (school or 教研组 completions, recency-weighted popularity …) on the
province's own temporal holdout. When a baseline finds the held-out completions better than any
learned blend, serving a learned blend anyway would knowingly serve the worse list; so the
baseline itself becomes the ranker. It scores by one signal, ties broken by province popularity
exactly as the check (and ``nengli evaluate``) breaks them, and is stored as plain arrays like
the other rankers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from competency_model.errors import ModelError
from recommender.ranking.contract import require_fitted

__all__ = ["BASELINE_SIGNALS", "BaselineRanker", "tie_broken"]

#: The simple baselines the model selection compares against, each the signal that computes it.
BASELINE_SIGNALS: dict[str, str] = {
    "school_popularity": "school_completers",
    "group_popularity": "group_completers",
    "recency_popularity": "recent_popularity",
    "school_popularity_gap": "school_popularity_gap",
    "popularity": "popularity",
}


def tie_broken(
    signal: NDArray[np.floating[Any]], popularity: NDArray[np.floating[Any]]
) -> NDArray[np.float64]:
    """``signal`` plus a popularity term too small to reorder distinct values (ties only)."""
    top = max(float(np.max(popularity)), 1.0) if np.size(popularity) else 1.0
    return np.asarray(signal, dtype=np.float64) + 1e-6 * np.asarray(popularity) / top


class BaselineRanker(BaseEstimator):
    """Ranks by one named signal (a simple baseline), ties broken by popularity.

    Parameters
    ----------
    signal
        The signal that computes the baseline (for example ``school_completers``).
    baseline
        The baseline's name in reports (for example ``school_popularity``).
    """

    kind = "baseline"

    def __init__(self, signal: str = "school_completers", baseline: str = "") -> None:
        self.signal = signal
        self.baseline = baseline

    def fit(self) -> BaselineRanker:
        """Nothing to learn; fixes the signals the ranker reads."""
        self.names_ = tuple(dict.fromkeys((self.signal, "popularity")))
        return self

    def decision(self, features: Mapping[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        """The baseline's score for every teacher × item in ``features``."""
        require_fitted(self, "names_", "call fit first")
        return tie_broken(features[self.signal], features["popularity"])

    def weights(self) -> dict[str, float]:
        """The whole weight on the baseline's signal."""
        require_fitted(self, "names_", "call fit first")
        return {self.signal: 1.0}

    def to_arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        """Learned state as plain arrays."""
        require_fitted(self, "names_", "call fit first")
        return {
            f"{prefix}kind": np.array(self.kind),
            f"{prefix}names": np.array(self.names_),
            f"{prefix}baseline": np.array(self.baseline),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]], prefix: str) -> BaselineRanker:
        """Rebuild from :meth:`to_arrays` output."""
        names = [str(n) for n in arrays[f"{prefix}names"].tolist()]
        if not names:
            raise ModelError(f"ranker.npz:{prefix}names is empty; the model directory is damaged")
        return cls(signal=names[0], baseline=str(arrays[f"{prefix}baseline"])).fit()
