"""A behavioural test mixin every ranker must pass (after implicit's ``RecommenderBase`` tests).

Each ranker is fitted on a checkerboard: teacher ``u`` took every item of their own parity except
item ``u`` (the held-out diagonal). Anything that learns from co-occurrence must then rank item
``u`` first for teacher ``u``. A subclass says how to fit its ranker on that matrix and how to ask
it for a top-k list; the mixin checks the held-out item, duplicates, finite scores and that
taken or excluded items are never shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

#: Teachers (and items) of the checkerboard.
SIZE = 30


def checkerboard(n: int = SIZE) -> sp.csr_matrix:
    """Users like items of their own parity; the diagonal (one such item each) is held out."""
    users, items = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    liked = ((users + items) % 2 == 0) & (users != items)
    return sp.csr_matrix(liked.astype(np.float32))


class RankerBehaviour:
    """Mixin: subclasses implement :meth:`fit` and :meth:`top` and inherit the tests."""

    def fit(self, matrix: sp.csr_matrix) -> Any:
        """The ranker fitted on ``matrix`` (teachers × items, 1 = took)."""
        raise NotImplementedError

    def top(
        self, ranker: Any, teacher: int, k: int, exclude: tuple[int, ...] = ()
    ) -> tuple[list[int], list[float]]:
        """Item columns and scores of ``teacher``'s top ``k``, never showing ``exclude``."""
        raise NotImplementedError

    def _fitted(self) -> Any:
        cache = type(self).__dict__.get("_cache")
        if cache is None:
            cache = self.fit(checkerboard())
            type(self)._cache = cache
        return cache

    def test_held_out_item_ranks_first(self) -> None:
        ranker = self._fitted()
        firsts = [self.top(ranker, teacher, k=1)[0][0] for teacher in range(SIZE)]
        assert firsts == list(range(SIZE))

    def test_top_k_has_no_duplicates(self) -> None:
        ranker = self._fitted()
        for teacher in range(SIZE):
            items, _ = self.top(ranker, teacher, k=10)
            assert len(items) == len(set(items)) and items

    def test_scores_are_finite_and_ordered(self) -> None:
        ranker = self._fitted()
        for teacher in range(SIZE):
            _, scores = self.top(ranker, teacher, k=10)
            assert np.isfinite(scores).all()
            assert scores == sorted(scores, reverse=True)

    def test_taken_and_excluded_items_are_never_shown(self) -> None:
        ranker = self._fitted()
        taken = checkerboard()
        for teacher in range(SIZE):
            exclude = (teacher, (teacher + 1) % SIZE)
            items, _ = self.top(ranker, teacher, k=SIZE, exclude=exclude)
            assert not set(items) & set(taken[teacher].indices.tolist())
            assert not set(items) & set(exclude)
