"""The recommender layer: diagnosis, ranking, learning paths and school plans, and their bundle.

Data flows one way: framework + catalog + events → :mod:`~recommender.diagnosis` →
:mod:`~recommender.ranking` (candidate generation, the learned blend, filters, reasons) →
:mod:`~recommender.paths` and :mod:`~recommender.school_planning`. A trained diagnosis and
recommender travel together as a :class:`ModelBundle` (:mod:`recommender.bundle`), written by
:func:`train_model_dir` and read by the service and the CLI.

Example
-------
>>> from recommender import load_bundle
>>> bundle = load_bundle("var/model")                     # doctest: +SKIP
>>> bundle.recommender.recommend("T0000001", k=5)         # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from competency_model.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from recommender.bundle import (
        ModelBundle,
        load_bundle,
        load_recommender,
        save_bundle,
        save_recommender,
    )
    from recommender.diagnosis import DiagnosisModel
    from recommender.ranking import (
        CollaborativeFilter,
        HybridRecommender,
        Kind,
        LambdaRanker,
        LinearRanker,
        ListKind,
        RankedItems,
        Recommendation,
        TeacherProfile,
    )
    from recommender.training import train_model_dir

__all__ = [
    "CollaborativeFilter",
    "DiagnosisModel",
    "HybridRecommender",
    "Kind",
    "LambdaRanker",
    "LinearRanker",
    "ListKind",
    "ModelBundle",
    "RankedItems",
    "Recommendation",
    "TeacherProfile",
    "load_bundle",
    "load_recommender",
    "save_bundle",
    "save_recommender",
    "train_model_dir",
]

# name → defining module; imported on first use (PEP 562) so the face costs nothing
_EXPORTS: dict[str, str] = {
    "CollaborativeFilter": "recommender.ranking",
    "DiagnosisModel": "recommender.diagnosis",
    "HybridRecommender": "recommender.ranking",
    "Kind": "recommender.ranking",
    "LambdaRanker": "recommender.ranking",
    "LinearRanker": "recommender.ranking",
    "ListKind": "recommender.ranking",
    "ModelBundle": "recommender.bundle",
    "RankedItems": "recommender.ranking",
    "Recommendation": "recommender.ranking",
    "TeacherProfile": "recommender.ranking",
    "load_bundle": "recommender.bundle",
    "load_recommender": "recommender.bundle",
    "save_bundle": "recommender.bundle",
    "save_recommender": "recommender.bundle",
    "train_model_dir": "recommender.training",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
