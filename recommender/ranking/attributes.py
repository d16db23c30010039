"""The fitted hybrid's learned state under sklearn's trailing-underscore names.

sklearn's convention is that what ``fit`` learns is readable as attributes ending in ``_``; the
hybrid keeps all of it in one :class:`~recommender.ranking.state.FittedState` (``state_``) so
helpers can take and return it. This mixin shows each field as a read-only attribute
(``teachers_``, ``ranker_`` …) and checks, once, that the estimator is fitted.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from recommender.ranking.cf import CollaborativeFilter
from recommender.ranking.contract import require_fitted
from recommender.ranking.filters import PolicyRules
from recommender.ranking.selection import Ranker
from recommender.ranking.signals import ItemTable, PointTable, SocialCounts, TeacherTable
from recommender.ranking.state import FittedState

__all__ = ["LearnedAttributes"]


class LearnedAttributes:
    """Mixin for an estimator whose ``fit`` sets ``state_`` (a :class:`FittedState`)."""

    state_: FittedState

    def _state(self) -> FittedState:
        """The learned state; :class:`NotFittedError` before ``fit`` or a load.

        Read first from the instance itself: the service asks on every request, and sklearn's
        ``check_is_fitted`` (which inspects the estimator's attributes) cost more than the
        rest of looking a teacher up; it only runs to raise its error when the state is absent.
        """
        state = self.__dict__.get("state_")
        if state is not None:
            return cast(FittedState, state)
        require_fitted(cast(BaseEstimator, self), "state_", "call fit or load a model directory")
        return self.state_

    # ================================================================== learned attributes
    # The state's fields under sklearn's trailing-underscore names (read-only views).
    @property
    def points_(self) -> PointTable:
        """The framework's points as arrays."""
        return self._state().points

    @property
    def items_(self) -> ItemTable:
        """The catalog as arrays."""
        return self._state().items

    @property
    def teachers_(self) -> TeacherTable:
        """Teachers and their schools as arrays."""
        return self._state().teachers

    @property
    def rules_(self) -> PolicyRules:
        """The policy's kind and environment gating."""
        return self._state().rules

    @property
    def mastery_(self) -> NDArray[np.float64]:
        """The training diagnosis, teachers × points."""
        return self._state().mastery

    @property
    def mastery_prior_(self) -> NDArray[np.float64]:
        """The diagnosis's population mean per point."""
        return self._state().mastery_prior

    @property
    def took_(self) -> sp.csr_matrix:
        """Items each teacher took (any event), teachers × items."""
        return self._state().took

    @property
    def completed_(self) -> sp.csr_matrix:
        """Items each teacher completed, teachers × items."""
        return self._state().completed

    @property
    def social_(self) -> SocialCounts:
        """Colleague and popularity counts."""
        return self._state().social

    @property
    def als_(self) -> CollaborativeFilter:
        """The ALS model."""
        return self._state().als

    @property
    def knn_(self) -> CollaborativeFilter:
        """The item-kNN model."""
        return self._state().knn

    @property
    def ranker_(self) -> Ranker:
        """The blend over all signals (known teachers)."""
        return self._state().ranker

    @property
    def cold_ranker_(self) -> Ranker:
        """The blend over content signals (cold start)."""
        return self._state().cold_ranker

    @property
    def ranker_candidates_(self) -> dict[str, Ranker]:
        """Every ranker the model selection fitted (``cold_…`` for cold start; not saved).

        Under the default ``ranker_refit="continue"`` (and ``"chosen"``) only the serving ones
        were refitted on the whole sample; the others are as the check fitted them (three
        quarters of it).
        """
        return self._state().candidates

    @property
    def mastered_filter_(self) -> bool:
        """Whether the model selection kept the mastered-points rule as a filter."""
        return self._state().mastered_filter

    @property
    def validation_metrics_(self) -> dict[str, Any]:
        """Hit rates on the held-out items (empty after loading)."""
        return self._state().validation_metrics
