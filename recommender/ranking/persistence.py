"""A fitted state as plain arrays grouped by model-directory file, and back, refusing bad arrays.

The layout (one ``.npz`` per concern, all read with ``allow_pickle=False`` by
:mod:`recommender.artifacts`):

- ``tables.npz``: points, catalog items and teachers/schools as arrays (so serving needs no
  catalog file or database);
- ``mastery.npz``: the diagnosis used for training (teachers × points) and its population mean;
- ``social.npz``: colleague and popularity counts, and the taken/completed matrices;
- ``cf_als.npz``, ``cf_knn.npz``: the collaborative-filtering models;
- ``ranker.npz``: the warm and cold rankers and the policy's gating rules.

A directory whose hashes are consistent can still hold arrays that do not fit together (ALS
factors for 3 teachers in a model of 3,000), and such a model would answer every request with a
500. :func:`state_from_arrays` therefore checks every array's shape against the tables before it
returns a state, and raises :class:`~competency_model.errors.ModelError` naming the file, the
array, the shape found and the shape expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.errors import ModelError
from recommender.ranking.cf import CollaborativeFilter
from recommender.ranking.filters import PolicyRules
from recommender.ranking.ranker import LinearRanker
from recommender.ranking.selection import ranker_from_arrays
from recommender.ranking.signals import (
    SIGNALS,
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
)
from recommender.ranking.state import FittedState

__all__ = ["RECOMMENDER_FILES", "state_arrays", "state_from_arrays"]

#: The files a recommender occupies in a model directory.
RECOMMENDER_FILES: tuple[str, ...] = (
    "tables.npz",
    "mastery.npz",
    "social.npz",
    "cf_als.npz",
    "cf_knn.npz",
    "ranker.npz",
)


def _sparse(prefix: str, matrix: sp.csr_matrix) -> dict[str, NDArray[Any]]:
    return {
        f"{prefix}data": matrix.data,
        f"{prefix}indices": matrix.indices,
        f"{prefix}indptr": matrix.indptr,
        f"{prefix}shape": np.array(matrix.shape),
    }


def _unsparse(prefix: str, arrays: Mapping[str, NDArray[Any]]) -> sp.csr_matrix:
    return sp.csr_matrix(
        (arrays[f"{prefix}data"], arrays[f"{prefix}indices"], arrays[f"{prefix}indptr"]),
        shape=tuple(arrays[f"{prefix}shape"]),
    )


def state_arrays(state: FittedState) -> dict[str, dict[str, NDArray[Any]]]:
    """A fitted state's arrays, grouped by file."""
    rules = state.rules
    return {
        "tables.npz": {
            **state.points.to_arrays("point_"),
            **state.items.to_arrays("item_"),
            **state.teachers.to_arrays("teacher_"),
        },
        "mastery.npz": {"mastery": state.mastery, "prior": state.mastery_prior},
        "social.npz": {
            **state.social.to_arrays(""),
            **_sparse("took_", state.took),
            **_sparse("completed_", state.completed),
        },
        "cf_als.npz": state.als.get_arrays(),
        "cf_knn.npz": state.knn.get_arrays(),
        "ranker.npz": {
            **state.ranker.to_arrays("warm_"),
            **state.cold_ranker.to_arrays("cold_"),
            "policy_online": np.array(rules.online_kinds),
            "policy_practice": np.array(rules.practice_kinds),
            "policy_gating": rules.gating,
            "policy_name": np.array(rules.name),
            "mastered_filter": np.array([state.mastered_filter]),
        },
    }


def state_from_arrays(arrays: Mapping[str, Mapping[str, NDArray[Any]]]) -> FittedState:
    """Rebuild a fitted state from :func:`state_arrays` output, after checking every shape.

    Raises
    ------
    ModelError
        A file or array is missing, or an array's shape does not fit the tables.
    """
    missing = [name for name in RECOMMENDER_FILES if name not in arrays]
    if missing:
        raise ModelError(
            f"the model directory lacks {missing}; it holds no complete recommender, retrain it"
        )
    try:
        state = _build(arrays)
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise ModelError(
            f"the recommender arrays cannot be rebuilt ({type(error).__name__}: {error}); "
            "the model directory is damaged, retrain or restore it"
        ) from error
    _check_shapes(state)
    return state


def _writable(array: NDArray[Any]) -> NDArray[Any]:
    """``array`` itself when it may be written in place, else a private copy."""
    return array if array.flags.writeable else np.array(array)


def _build(arrays: Mapping[str, Mapping[str, NDArray[Any]]]) -> FittedState:
    tables, ranker, social = arrays["tables.npz"], arrays["ranker.npz"], arrays["social.npz"]
    als = CollaborativeFilter.from_arrays(arrays["cf_als.npz"])
    knn = CollaborativeFilter.from_arrays(arrays["cf_knn.npz"])
    knn.user_items_ = als.user_items_
    return FittedState(
        points=PointTable.from_arrays(tables, "point_"),
        items=ItemTable.from_arrays(tables, "item_"),
        teachers=TeacherTable.from_arrays(tables, "teacher_"),
        rules=PolicyRules(
            str(ranker["policy_name"]),
            tuple(ranker["policy_online"].tolist()),
            tuple(ranker["policy_practice"].tolist()),
            np.asarray(ranker["policy_gating"]),
        ),
        mastery=np.asarray(arrays["mastery.npz"]["mastery"]),
        mastery_prior=np.asarray(arrays["mastery.npz"]["prior"]),
        took=_unsparse("took_", social),
        completed=_unsparse("completed_", social),
        # Fold-in updates the counts in place: a writable array (a copy-on-write map of the
        # model file, or one read into memory) is used as it is — at 1,000,000 teachers a copy
        # cost each API worker ~0.49 GB of private memory (docs/benchmarks.md) — and only a
        # read-only one is copied.
        social=SocialCounts(
            *(
                _writable(social[name])
                for name in (
                    "group_took",
                    "group_completed",
                    "school_took",
                    "item_took",
                    "school_completed",
                    "item_completed",
                    "item_recent",
                )
            )
        ),
        als=als,
        knn=knn,
        ranker=ranker_from_arrays(ranker, "warm_"),
        cold_ranker=ranker_from_arrays(ranker, "cold_"),
        mastered_filter=bool(ranker["mastered_filter"][0]) if "mastered_filter" in ranker else True,
    )


def _expect(file: str, name: str, actual: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if tuple(actual) != tuple(expected):
        raise ModelError(
            f"{file}:{name} has shape {tuple(actual)}, the model's tables need {tuple(expected)}; "
            "the model directory is inconsistent, retrain or restore it"
        )


def _check_shapes(state: FittedState) -> None:
    """Every array fits the point, item, teacher, school and 教研组 counts of the tables."""
    n_points, n_items = len(state.points.codes), len(state.items.item_ids)
    t = state.teachers
    n_teachers, n_schools, n_groups = len(t.teacher_ids), len(t.school_ids), len(t.group_keys)
    for name in ("school_row", "group_row", "stages", "subjects", "research_groups"):
        _expect("tables.npz", f"teacher_{name}", np.shape(getattr(t, name)), (n_teachers,))
    _expect("tables.npz", "teacher_school_chosen", t.school_chosen.shape, (n_schools, n_points))
    _expect(
        "tables.npz", "item_point_weights", state.items.point_weights.shape, (n_items, n_points)
    )
    if n_teachers and not (
        0 <= t.school_row.min() <= t.school_row.max() < max(n_schools, 1)
        and 0 <= t.group_row.min() <= t.group_row.max() < max(n_groups, 1)
    ):
        raise ModelError(
            "tables.npz: teacher_school_row or teacher_group_row points outside the school or "
            "教研组 tables; the model directory is inconsistent, retrain or restore it"
        )
    _expect("mastery.npz", "mastery", state.mastery.shape, (n_teachers, n_points))
    _expect("mastery.npz", "prior", state.mastery_prior.shape, (n_points,))
    social = state.social
    _expect("social.npz", "group_took", social.group_took.shape, (n_groups, n_items))
    _expect("social.npz", "group_completed", social.group_completed.shape, (n_groups, n_items))
    _expect("social.npz", "school_took", social.school_took.shape, (n_schools, n_items))
    _expect("social.npz", "item_took", social.item_took.shape, (n_items,))
    _expect("social.npz", "school_completed", social.school_completed.shape, (n_schools, n_items))
    for name in ("item_completed", "item_recent"):
        _expect("social.npz", name, getattr(social, name).shape, (n_items,))
    for name, matrix in (("took_", state.took), ("completed_", state.completed)):
        _expect("social.npz", f"{name}shape", matrix.shape, (n_teachers, n_items))
        _check_csr("social.npz", name, matrix)
    for file, cf in (("cf_als.npz", state.als), ("cf_knn.npz", state.knn)):
        _expect(file, "ui_shape", cf.user_items_.shape, (n_teachers, n_items))
        _check_csr(file, "ui_", cf.user_items_)
        learned = cf.get_arrays()
        if "user_factors" in learned:
            users, items = learned["user_factors"], learned["item_factors"]
            _expect(file, "user_factors", users.shape, (n_teachers, *users.shape[1:]))
            _expect(file, "item_factors", items.shape, (n_items, *users.shape[1:]))
        if "sim_shape" in learned:
            _expect(file, "sim_shape", tuple(learned["sim_shape"].tolist()), (n_items, n_items))
    for prefix, ranker in (("warm_", state.ranker), ("cold_", state.cold_ranker)):
        n_signals = (len(ranker.names_),)
        if isinstance(ranker, LinearRanker):
            for name in ("mean_", "scale_", "coef_"):
                shape = getattr(ranker, name).shape
                _expect("ranker.npz", f"{prefix}{name[:-1]}", shape, n_signals)
        unknown = sorted(set(ranker.names_) - set(SIGNALS))
        if unknown:
            raise ModelError(
                f"ranker.npz:{prefix}names holds unknown signals {unknown}; this nengli computes "
                f"{', '.join(SIGNALS)} — retrain the model"
            )
    _expect("ranker.npz", "policy_gating", state.rules.gating.shape, (3, 3))


def _check_csr(file: str, prefix: str, matrix: sp.csr_matrix) -> None:
    try:
        matrix.check_format(full_check=True)
    except ValueError as error:
        raise ModelError(
            f"{file}:{prefix}indices/indptr do not form a valid sparse matrix ({error}); "
            "the model directory is damaged, retrain or restore it"
        ) from error
