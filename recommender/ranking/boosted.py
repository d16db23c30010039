"""A learning-to-rank blend: LightGBM's LambdaRank over the same named signals.

The linear blend (:class:`~recommender.ranking.ranker.LinearRanker`) adds weighted signals, so it
cannot say "colleagues' completions matter, but only for items on points the teacher has not
mastered" or "a long course counts less once the school has a favourite". Gradient-boosted
trees trained with LambdaRank (Burges 2010) learn such interactions and optimise nDCG over each
teacher's list directly. Which of the two serves a province is decided by the fit's model
selection on a temporal holdout (:mod:`recommender.ranking.selection`), not assumed.

The booster is stored as its own text format inside a ``uint8`` array, so the model directory
stays free of pickle; feature importances (total gain per signal, normalised to sum to 1) are
reported like the linear coefficients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from competency_model.errors import ModelError
from recommender.ranking.contract import require_fitted

__all__ = ["LambdaRanker"]


class LambdaRanker(BaseEstimator):
    """LightGBM LambdaRank over named signals, one query per teacher.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples
        The booster's size and step (LightGBM's names).
    random_state
        Seed of LightGBM's bagging and feature sampling (training is deterministic).
    num_threads
        Threads for training and prediction.
    """

    kind = "lambdarank"
    # fitted state (set by fit / from_arrays); declared so that ``init`` is typed
    names_: tuple[str, ...]
    booster_: Any
    model_text_: str

    def __init__(
        self,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.num_threads = num_threads

    def _params(self, n_rows: int) -> dict[str, Any]:
        # a leaf needs enough rows to mean something, but a small province must still split
        min_leaf = max(1, min(self.min_child_samples, n_rows // 20))
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": min_leaf,
            "min_data_in_bin": 1,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "lambdarank_truncation_level": 20,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }

    def fit(
        self,
        X: NDArray[np.float64],
        y: NDArray[np.int8],
        names: Sequence[str],
        group_sizes: NDArray[np.int64],
        init: LambdaRanker | None = None,
    ) -> LambdaRanker:
        """Fit on rows ``X`` (columns = ``names``) grouped into consecutive queries.

        ``group_sizes[q]`` rows belong to query ``q`` (one teacher); ``y`` is 1 for the
        teacher's held-out items and 0 for the other candidates. With ``init`` (a fitted
        ranker on the same signals) boosting continues from its trees: ``n_estimators`` more
        rounds on these rows, which the model selection uses to extend the check's fit to every
        sampled teacher at a fraction of a refit's cost.
        """
        import lightgbm

        if X.shape[1] != len(names):
            raise ValueError(f"X has {X.shape[1]} columns but {len(names)} signal names were given")
        if int(np.sum(group_sizes)) != len(X):
            raise ValueError(f"group sizes sum to {int(np.sum(group_sizes))}, X has {len(X)} rows")
        if len(np.unique(y)) < 2:
            raise ModelError("the ranker needs both held-out (positive) and other (negative) items")
        data = lightgbm.Dataset(
            X.astype(np.float32),
            label=y,
            group=np.asarray(group_sizes),
            feature_name=list(names),
            free_raw_data=True,
        )
        start = None
        if init is not None:
            require_fitted(init, "booster_", "init must be a fitted LambdaRanker")
            if tuple(init.names_) != tuple(names):
                raise ValueError(f"init ranks by {init.names_}, not by {tuple(names)}")
            start = init.booster_
        booster = lightgbm.train(
            self._params(len(X)), data, num_boost_round=self.n_estimators, init_model=start
        )
        self.names_ = tuple(names)
        self.booster_ = booster
        self.model_text_ = booster.model_to_string()
        return self

    def decision(self, features: Mapping[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        """Ranking score for every teacher × item in ``features`` (higher ranks first)."""
        require_fitted(self, "booster_", "call fit first")
        shape = np.shape(features[self.names_[0]])
        stacked = np.stack(
            [np.broadcast_to(features[name], shape).reshape(-1) for name in self.names_], axis=1
        )
        scores = self.booster_.predict(stacked, num_threads=self.num_threads)
        return np.asarray(scores, dtype=np.float64).reshape(shape)

    def weights(self) -> dict[str, float]:
        """Share of the total split gain per signal (sums to 1): what the trees rely on."""
        require_fitted(self, "booster_", "call fit first")
        gain = np.asarray(self.booster_.feature_importance("gain"), dtype=np.float64)
        total = gain.sum() or 1.0
        return {name: round(float(g / total), 4) for name, g in zip(self.names_, gain, strict=True)}

    def to_arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        """Learned state as plain arrays (the booster as UTF-8 bytes)."""
        require_fitted(self, "booster_", "call fit first")
        return {
            f"{prefix}kind": np.array(self.kind),
            f"{prefix}names": np.array(self.names_),
            f"{prefix}booster": np.frombuffer(self.model_text_.encode("utf-8"), dtype=np.uint8),
            f"{prefix}hyper": np.array(
                [self.n_estimators, self.learning_rate, self.num_leaves, self.min_child_samples],
                dtype=np.float64,
            ),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]], prefix: str) -> LambdaRanker:
        """Rebuild from :meth:`to_arrays` output."""
        import lightgbm

        hyper = np.asarray(arrays[f"{prefix}hyper"], dtype=np.float64)
        ranker = cls(
            n_estimators=int(hyper[0]),
            learning_rate=float(hyper[1]),
            num_leaves=int(hyper[2]),
            min_child_samples=int(hyper[3]),
        )
        ranker.names_ = tuple(str(n) for n in arrays[f"{prefix}names"].tolist())
        text = np.asarray(arrays[f"{prefix}booster"], dtype=np.uint8).tobytes().decode("utf-8")
        ranker.model_text_ = text
        ranker.booster_ = lightgbm.Booster(model_str=text)
        if ranker.booster_.num_feature() != len(ranker.names_):
            raise ModelError(
                f"ranker.npz:{prefix}booster uses {ranker.booster_.num_feature()} signals but "
                f"{len(ranker.names_)} are named; the model directory is inconsistent"
            )
        return ranker
