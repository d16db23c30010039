"""Collaborative filtering on implicit feedback: ALS, BPR and item-kNN behind one small API.

Teachers rarely rate courses; they enrol, make progress, complete and sometimes rate. Those
events are turned into one *confidence* per teacher × item (:func:`confidence_matrix`) and fed to
``implicit``'s solvers, which are written for exactly this kind of data (Hu, Koren & Volinsky
2008 for ALS; Rendle et al. 2009 for BPR). Item-kNN uses ``implicit``'s cosine neighbourhoods.

All three models share :class:`CollaborativeFilter`: ``fit(user_items)`` on a CSR matrix,
``score(user_ids)`` for dense scores over every item, ``recommend`` for one user,
``fold_in`` to update one user's representation from new rows without refitting, and
``get_arrays``/``from_arrays`` for a pickle-free model directory.

Example
-------
>>> model = CollaborativeFilter(algorithm="als", factors=32, random_state=0).fit(user_items)  # doctest: +SKIP
>>> ids, scores = model.recommend(0, user_items[0], k=10)                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from competency_model.errors import ModelError
from recommender.ranking.contract import require_fitted

__all__ = [
    "DEFAULT_EVENT_WEIGHTS",
    "CollaborativeFilter",
    "clone_unfitted",
    "confidence_matrix",
    "replace_csr_row",
]

Algorithm = Literal["als", "bpr", "item_knn"]

#: Confidence added per event kind. ``progress`` is multiplied by its value (0–1) and ``rate`` by
#: ``(rating - 1) / 4`` so a 1-star rating adds nothing beyond the enrolment it implies. These are
#: hyperparameters of the feedback model, exposed so they can be tuned, not blend weights.
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "enrol": 1.0,
    "progress": 1.0,
    "complete": 2.0,
    "rate": 1.0,
}


def confidence_matrix(
    events: pd.DataFrame,
    user_index: Mapping[str, int] | pd.Index,
    item_index: Mapping[str, int] | pd.Index,
    weights: Mapping[str, float] | None = None,
    user_col: str = "teacher_id",
) -> sp.csr_matrix:
    """Collapse an event log into a users × items confidence matrix.

    Parameters
    ----------
    events
        Columns ``user_col``, ``item_id``, ``event`` and ``value`` (see docs/contracts.md).
    user_index, item_index
        Row and column positions. Events whose user or item is not indexed are dropped, which is
        what an evaluation split wants (items unseen in training cannot be scored anyway).
    weights
        Confidence per event kind; defaults to :data:`DEFAULT_EVENT_WEIGHTS`.

    Returns
    -------
    scipy.sparse.csr_matrix
        float32, one non-zero per distinct (user, item) pair that has at least one event.
    """
    weights = dict(DEFAULT_EVENT_WEIGHTS if weights is None else weights)
    users = (
        pd.Index(user_index) if not isinstance(user_index, Mapping) else pd.Index(list(user_index))
    )
    items = (
        pd.Index(item_index) if not isinstance(item_index, Mapping) else pd.Index(list(item_index))
    )
    if events.empty:
        return sp.csr_matrix((len(users), len(items)), dtype=np.float32)
    unknown = sorted(set(events["event"].dropna().unique()) - set(weights))
    if unknown:
        raise ValueError(
            f"events column 'event' has unknown kinds {unknown}; expected {sorted(weights)}"
        )
    kind = events["event"].to_numpy()
    value = events["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    scale = np.ones(len(events))
    is_progress = kind == "progress"
    scale[is_progress] = np.clip(np.nan_to_num(value[is_progress], nan=0.0), 0.0, 1.0)
    is_rate = kind == "rate"
    scale[is_rate] = np.clip((np.nan_to_num(value[is_rate], nan=1.0) - 1.0) / 4.0, 0.0, 1.0)
    confidence = pd.Series(kind).map(weights).to_numpy(dtype=np.float64) * scale
    rows = users.get_indexer(events[user_col].to_numpy())
    cols = items.get_indexer(events["item_id"].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.coo_matrix(
        (confidence[keep].astype(np.float32), (rows[keep], cols[keep])),
        shape=(len(users), len(items)),
    ).tocsr()
    matrix.sum_duplicates()
    # A pair with only a 1-star rating and no other event still counts as an interaction.
    matrix.data = np.maximum(matrix.data, np.float32(1e-3))
    return matrix


def clone_unfitted(model: CollaborativeFilter) -> CollaborativeFilter:
    """An unfitted model with the same hyperparameters (sklearn's ``clone``, typed)."""
    return CollaborativeFilter(**model.get_params())


def replace_csr_row(matrix: sp.csr_matrix, row: int, values: sp.spmatrix) -> sp.csr_matrix:
    """A copy of ``matrix`` with one row replaced, by splicing the CSR arrays.

    Converting to LIL and back would cost seconds on a million-row matrix; splicing costs one
    pass over the stored values.
    """
    new = sp.csr_matrix(values, dtype=matrix.dtype)
    new.sum_duplicates()
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    data = np.concatenate([matrix.data[:start], new.data, matrix.data[end:]])
    indices = np.concatenate([matrix.indices[:start], new.indices, matrix.indices[end:]])
    indptr = matrix.indptr.astype(np.int64, copy=True)
    indptr[row + 1 :] += new.nnz - (end - start)
    return sp.csr_matrix((data, indices, indptr), shape=matrix.shape)


class CollaborativeFilter(BaseEstimator):
    """One collaborative-filtering model on implicit feedback.

    Parameters
    ----------
    algorithm
        ``"als"`` (implicit's conjugate-gradient ALS), ``"bpr"`` (implicit's BPR) or
        ``"item_knn"`` (implicit's cosine item neighbourhoods).
    factors
        Embedding size for ALS/BPR.
    regularization
        L2 penalty for ALS/BPR.
    alpha
        ALS confidence scaling (``C = 1 + alpha * r``).
    iterations
        Sweeps (ALS) or epochs (BPR).
    learning_rate
        BPR step size.
    neighbours
        Neighbours kept per item for item-kNN.
    num_threads
        Solver threads. BPR with more than one thread is not reproducible (lock-free SGD), so the
        default is 1.
    random_state
        Seed of the factor initialisation and of BPR's sampling.
    """

    def __init__(
        self,
        algorithm: Algorithm = "als",
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        learning_rate: float = 0.01,
        neighbours: int = 50,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.algorithm = algorithm
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.neighbours = neighbours
        self.num_threads = num_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _new_model(self) -> Any:
        if self.algorithm == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.random_state,
            )
        if self.algorithm == "bpr":
            from implicit.cpu.bpr import BayesianPersonalizedRanking

            return BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                num_threads=self.num_threads,
                random_state=self.random_state,
            )
        if self.algorithm == "item_knn":
            from implicit.nearest_neighbours import ItemItemRecommender

            return ItemItemRecommender(K=self.neighbours, num_threads=self.num_threads)
        raise ValueError(f"algorithm={self.algorithm!r}; use 'als', 'bpr' or 'item_knn'")

    def fit(self, user_items: sp.spmatrix) -> CollaborativeFilter:
        """Fit on a users × items confidence matrix (CSR, non-negative)."""
        matrix = sp.csr_matrix(user_items, dtype=np.float32)
        if matrix.nnz and matrix.data.min() < 0:
            raise ValueError("user_items has negative confidences; confidences must be >= 0")
        if matrix.shape[1] < 2:
            raise ValueError(f"user_items has {matrix.shape[1]} item columns; need at least 2")
        with threadpool_limits(limits=1, user_api="blas"):
            model = self._new_model()
            if self.algorithm == "item_knn":
                # Cosine neighbourhoods: unit-norm item columns, so X'X holds cosines (what
                # implicit's CosineRecommender does, without its COO round trip).
                model.fit(
                    normalize(matrix.T.tocsr().astype(np.float64)).T.tocsr(), show_progress=False
                )
            else:
                model.fit(matrix, show_progress=False)
        self.model_ = model
        self.n_items_ = matrix.shape[1]
        # Item-kNN scores a user from their own rows; keep them so ``score`` needs only ids.
        self.user_items_ = matrix
        return self

    def warm_refit(self, user_items: sp.spmatrix, iterations: int) -> CollaborativeFilter:
        """A copy fitted on ``user_items`` for ``iterations`` sweeps, starting from these factors.

        ``fit`` trains CF twice: on the validation split (so the ranker sees out-of-sample CF
        scores) and on every event (for serving). The two matrices differ by one item per
        teacher, so the second fit starts from the first one's factors and needs a few sweeps
        instead of a full fit (implicit's ALS keeps factors that are already set). Item-kNN has
        no iterations and is refitted; BPR restarts from its factors too.
        """
        require_fitted(self, "model_", "call fit first")
        if self.algorithm == "item_knn":
            return clone_unfitted(self).fit(user_items)
        matrix = sp.csr_matrix(user_items, dtype=np.float32)
        if matrix.shape != self.user_items_.shape:
            raise ValueError(
                f"warm_refit needs the same users × items shape {self.user_items_.shape}; "
                f"got {matrix.shape}"
            )
        refit = clone_unfitted(self)
        with threadpool_limits(limits=1, user_api="blas"):
            model = refit._new_model()
            model.user_factors = np.array(self.model_.user_factors, copy=True)
            model.item_factors = np.array(self.model_.item_factors, copy=True)
            model.iterations = iterations
            model.fit(matrix, show_progress=False)
        refit.model_ = model
        refit.n_items_ = matrix.shape[1]
        refit.user_items_ = matrix
        return refit

    @property
    def n_users_(self) -> int:
        """Number of users with a stored representation (grows with :meth:`fold_in`)."""
        require_fitted(self, "model_", "call fit first")
        return int(self.user_items_.shape[0])

    # ------------------------------------------------------------------ scoring
    def score(self, user_ids: Sequence[int] | NDArray[np.int64]) -> NDArray[np.float32]:
        """Dense scores of every item for the given users (rows in ``user_ids`` order)."""
        require_fitted(self, "model_", "call fit first")
        ids = np.asarray(user_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_users_):
            raise ValueError(
                f"user ids must lie in [0, {self.n_users_}); got {ids.min()}..{ids.max()}"
            )
        if self.algorithm == "item_knn":
            rows = self.user_items_[ids]
            return np.asarray((rows @ self.model_.similarity).todense(), dtype=np.float32)
        user_factors = np.asarray(self.model_.user_factors)[ids]
        return (user_factors @ np.asarray(self.model_.item_factors).T).astype(np.float32)

    def recommend(
        self, user_id: int, k: int = 10, filter_seen: bool = True
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Top ``k`` item columns and scores for one stored user, seen items removed by default."""
        scores = self.score([user_id])[0]
        if filter_seen:
            seen = self.user_items_[user_id].indices
            scores[seen] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k else np.array([], dtype=np.int64)
        top = top[np.lexsort((top, -scores[top]))]
        return top.astype(np.int64), scores[top]

    # ------------------------------------------------------------------ fold-in
    def fold_in(self, user_id: int, user_row: sp.spmatrix) -> None:
        """Replace one user's feedback row and update their representation only.

        ALS solves that user's least-squares problem against the fixed item factors (implicit's
        ``partial_fit_users``). BPR has no closed form, so its user vector is re-estimated the
        same way against BPR's item factors, keeping the bias slot at 1. Item-kNN needs nothing
        but the new row. ``user_id == n_users_`` appends a new user.
        """
        require_fitted(self, "model_", "call fit first")
        row = sp.csr_matrix(user_row, dtype=np.float32)
        if row.shape != (1, self.n_items_):
            raise ValueError(f"user_row has shape {row.shape}; expected (1, {self.n_items_})")
        if user_id < 0 or user_id > self.n_users_:
            raise ValueError(f"user_id={user_id} must be an existing user or {self.n_users_} (new)")
        if user_id == self.n_users_:
            self.user_items_ = sp.vstack([self.user_items_, row], format="csr")
        else:
            self.user_items_ = replace_csr_row(self.user_items_, user_id, row)
        if self.algorithm == "als":
            with threadpool_limits(limits=1, user_api="blas"):
                self.model_.partial_fit_users(np.array([user_id]), row)
        elif self.algorithm == "bpr":
            self._fold_in_bpr(user_id, row)

    def _fold_in_bpr(self, user_id: int, row: sp.csr_matrix) -> None:
        item_factors = np.asarray(self.model_.item_factors, dtype=np.float64)
        embedding, bias = item_factors[:, :-1], item_factors[:, -1]
        target = np.zeros(self.n_items_)
        target[row.indices] = 1.0
        # Ridge regression of "interacted" on the item embeddings, minus the item bias that the
        # BPR score already adds: the user vector that best ranks their items above the rest.
        gram = embedding.T @ embedding + self.regularization * len(target) * np.eye(
            embedding.shape[1]
        )
        vector = np.linalg.solve(gram, embedding.T @ (target - bias))
        new = np.append(vector, 1.0).astype(self.model_.user_factors.dtype)
        factors = np.asarray(self.model_.user_factors)
        if user_id >= factors.shape[0]:
            factors = np.vstack(
                [
                    factors,
                    np.zeros((user_id - factors.shape[0] + 1, factors.shape[1]), factors.dtype),
                ]
            )
        factors[user_id] = new
        self.model_.user_factors = factors

    # ------------------------------------------------------------------ persistence
    def get_arrays(self) -> dict[str, NDArray[Any]]:
        """Learned state as plain arrays (for :func:`recommender.artifacts.save_model_dir`)."""
        require_fitted(self, "model_", "call fit first")
        matrix = self.user_items_
        arrays: dict[str, NDArray[Any]] = {
            "algorithm": np.array(self.algorithm),
            "hyperparameters": np.array(
                [
                    self.factors,
                    self.regularization,
                    self.alpha,
                    self.iterations,
                    self.learning_rate,
                    self.neighbours,
                    self.num_threads,
                    self.random_state,
                ],
                dtype=np.float64,
            ),
            "ui_data": matrix.data,
            "ui_indices": matrix.indices,
            "ui_indptr": matrix.indptr,
            "ui_shape": np.array(matrix.shape, dtype=np.int64),
        }
        if self.algorithm == "item_knn":
            sim = sp.csr_matrix(self.model_.similarity)
            arrays.update(
                sim_data=sim.data,
                sim_indices=sim.indices,
                sim_indptr=sim.indptr,
                sim_shape=np.array(sim.shape, dtype=np.int64),
            )
        else:
            arrays.update(
                user_factors=np.asarray(self.model_.user_factors),
                item_factors=np.asarray(self.model_.item_factors),
            )
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]]) -> CollaborativeFilter:
        """Rebuild a fitted model from :meth:`get_arrays` output."""
        try:
            algorithm = str(arrays["algorithm"])
            hp = arrays["hyperparameters"]
            model = cls(
                algorithm=cast(Algorithm, algorithm),
                factors=int(hp[0]),
                regularization=float(hp[1]),
                alpha=float(hp[2]),
                iterations=int(hp[3]),
                learning_rate=float(hp[4]),
                neighbours=int(hp[5]),
                num_threads=int(hp[6]),
                random_state=int(hp[7]),
            )
            model.user_items_ = sp.csr_matrix(
                (arrays["ui_data"], arrays["ui_indices"], arrays["ui_indptr"]),
                shape=tuple(arrays["ui_shape"]),
            )
            with threadpool_limits(limits=1, user_api="blas"):
                inner = model._new_model()
            if algorithm == "item_knn":
                inner.similarity = sp.csr_matrix(
                    (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]),
                    shape=tuple(arrays["sim_shape"]),
                )
            else:
                # No copy: memory-mapped factors stay shared between API workers
                # (copy-on-write, so fold-in's in-place update touches one page).
                inner.user_factors = np.asarray(arrays["user_factors"])
                inner.item_factors = np.asarray(arrays["item_factors"])
        except KeyError as error:
            raise ModelError(
                f"collaborative-filter arrays lack {error}; the model file is incomplete"
            ) from error
        model.model_ = inner
        model.n_items_ = int(model.user_items_.shape[1])
        return model
