"""Saving and loading the hybrid recommender as a model directory.

The layout (one ``.npz`` per concern, all read with ``allow_pickle=False``):

- ``tables.npz``: points, catalog items and teachers/schools as arrays (so serving needs no
  catalog file or database);
- ``mastery.npz``: the diagnosis used for training (teachers × points) and its population mean;
- ``social.npz``: colleague and popularity counts, and the taken/completed matrices;
- ``cf_als.npz``, ``cf_knn.npz``: the collaborative-filtering models;
- ``ranker.npz``: the warm and cold rankers and the policy's gating rules;
- ``diagnosis.npz`` (written by ``nengli train``): the diagnosis model's own arrays.

``metadata.json`` carries the hyperparameters; the model version is a hash of the file hashes,
so two directories with the same version hold the same model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.artifacts import load_model_dir, save_model_dir
from recommender.cf import CollaborativeFilter
from recommender.filters import PolicyRules
from recommender.ranker import LinearRanker
from recommender.signals import ItemTable, PointTable, SocialCounts, TeacherTable

if TYPE_CHECKING:
    from recommender.hybrid import HybridRecommender

__all__ = ["load_recommender", "recommender_arrays", "recommender_from_arrays", "save_recommender"]


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


def recommender_arrays(model: HybridRecommender) -> dict[str, dict[str, NDArray[Any]]]:
    """A fitted recommender's learned state, grouped by file."""
    rules = model.rules_
    return {
        "tables.npz": {
            **model.points_.to_arrays("point_"),
            **model.items_.to_arrays("item_"),
            **model.teachers_.to_arrays("teacher_"),
        },
        "mastery.npz": {"mastery": model.mastery_, "prior": model.mastery_prior_},
        "social.npz": {
            **model.social_.to_arrays(""),
            **_sparse("took_", model.took_),
            **_sparse("completed_", model.completed_),
        },
        "cf_als.npz": model.als_.get_arrays(),
        "cf_knn.npz": model.knn_.get_arrays(),
        "ranker.npz": {
            **model.ranker_.to_arrays("warm_"),
            **model.cold_ranker_.to_arrays("cold_"),
            "policy_online": np.array(rules.online_kinds),
            "policy_practice": np.array(rules.practice_kinds),
            "policy_gating": rules.gating,
            "policy_name": np.array(rules.name),
        },
    }


def recommender_from_arrays(
    model: HybridRecommender,
    arrays: Mapping[str, Mapping[str, NDArray[Any]]],
    model_version: str = "unsaved",
) -> HybridRecommender:
    """Fill an unfitted ``model`` (constructed with the saved hyperparameters) from arrays."""
    tables, ranker = arrays["tables.npz"], arrays["ranker.npz"]
    model.points_ = PointTable.from_arrays(tables, "point_")
    model.items_ = ItemTable.from_arrays(tables, "item_")
    model.teachers_ = TeacherTable.from_arrays(tables, "teacher_")
    model.mastery_ = np.asarray(arrays["mastery.npz"]["mastery"])
    model.mastery_prior_ = np.asarray(arrays["mastery.npz"]["prior"])
    social = arrays["social.npz"]
    # Copies: fold-in updates the counts in place, and loaded arrays may be read-only.
    model.social_ = SocialCounts(
        *(
            np.array(social[name])
            for name in ("group_took", "group_completed", "school_took", "item_took")
        )
    )
    model.took_ = _unsparse("took_", social)
    model.completed_ = _unsparse("completed_", social)
    model.als_ = CollaborativeFilter.from_arrays(arrays["cf_als.npz"])
    model.knn_ = CollaborativeFilter.from_arrays(arrays["cf_knn.npz"])
    model.knn_.user_items_ = model.als_.user_items_
    model.ranker_ = LinearRanker.from_arrays(ranker, "warm_")
    model.cold_ranker_ = LinearRanker.from_arrays(ranker, "cold_")
    model.rules_ = PolicyRules(
        str(ranker["policy_name"]),
        tuple(ranker["policy_online"].tolist()),
        tuple(ranker["policy_practice"].tolist()),
        np.asarray(ranker["policy_gating"]),
    )
    model._teacher_lookup = {t: i for i, t in enumerate(model.teachers_.teacher_ids.tolist())}
    model.model_version = model_version
    return model


def save_recommender(
    model: HybridRecommender,
    directory: str | Path,
    metadata: Mapping[str, Any] | None = None,
    extra_arrays: Mapping[str, Mapping[str, NDArray[Any]]] | None = None,
) -> Path:
    """Write ``model`` (plus e.g. the diagnosis arrays) as a verified model directory."""
    document = {
        "kind": "nengli-hybrid-recommender",
        "params": model.get_params(),
        **(metadata or {}),
    }
    return save_model_dir(directory, {**model.get_arrays(), **(extra_arrays or {})}, document)


def load_recommender(directory: str | Path) -> HybridRecommender:
    """Load a model directory written by ``nengli train``, verifying every file's sha256.

    The returned recommender's ``model_version`` is the first 12 hex digits of a hash over the
    files' hashes.
    """
    from recommender.hybrid import HybridRecommender

    arrays, metadata = load_model_dir(directory)
    digest = hashlib.sha256(json.dumps(metadata["files"], sort_keys=True).encode()).hexdigest()
    return HybridRecommender.from_arrays(
        arrays, metadata.get("params", {}), model_version=digest[:12]
    )
