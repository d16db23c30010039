"""The model bundle: the trained diagnosis and recommender that go live together, in one directory.

``nengli train`` writes one directory; the service, ``nengli path`` and ``nengli recommend`` read
it. Writing and reading happen only here: :func:`save_bundle` puts the recommender's files
(:data:`~recommender.ranking.RECOMMENDER_FILES`) and ``diagnosis.npz`` beside a
``metadata.json`` that lists the sha256, dtype and shape of every array
(:mod:`recommender.artifacts`), and :func:`load_bundle` refuses anything that could go live
broken: a changed file, metadata that is not an object, a truncated archive, an array whose
dtype or shape differs from the metadata, arrays that do not fit together (ALS factors for 3
teachers in a model of 3,000), a diagnosis that does not fit the item bank, or a model that
cannot answer a trial request. Every refusal is a :class:`~competency_model.errors.ModelError`,
which the service answers with 503 while it keeps the model it had.

Example
-------
>>> save_bundle(ModelBundle(diagnosis, recommender, {"data_hash": "…"}), "var/model")  # doctest: +SKIP
>>> bundle = load_bundle("var/model")                                                  # doctest: +SKIP
>>> bundle.recommender.recommend("T0000001", k=5)                                      # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from competency_model.errors import ModelError, NengliError
from competency_model.framework import Framework, default_framework
from competency_model.item_bank import ItemBank, load_item_bank
from recommender.artifacts import METADATA_NAME, load_model_dir, save_model_dir
from recommender.diagnosis.model import DiagnosisModel
from recommender.ranking import HybridRecommender

__all__ = [
    "DIAGNOSIS_FILE",
    "RECOMMENDER_KIND",
    "ModelBundle",
    "bundle_version",
    "load_bundle",
    "load_recommender",
    "save_bundle",
    "save_recommender",
]

#: The diagnosis model's file in a bundle.
DIAGNOSIS_FILE = "diagnosis.npz"
#: ``metadata.json``'s ``kind`` for a directory written here.
RECOMMENDER_KIND = "nengli-hybrid-recommender"


@dataclass(frozen=True)
class ModelBundle:
    """One consistent set of trained models, plus where and when it was loaded.

    Attributes
    ----------
    diagnosis, recommender
        The fitted models.
    metadata
        ``metadata.json`` (hyperparameters, data hash, metrics, versions, file hashes) when
        loaded; what to add to it when saved.
    model_dir
        The directory it was loaded from (``None`` before it is saved).
    version
        A short id of the model: the sha256 of its ``metadata.json`` (which lists every file's
        hash), ``"unsaved"`` before it is saved.
    loaded_at
        When it was built or loaded.
    """

    diagnosis: DiagnosisModel
    recommender: HybridRecommender
    metadata: dict[str, Any] = field(default_factory=dict)
    model_dir: Path | None = None
    version: str = "unsaved"
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def bundle_version(directory: str | Path) -> str:
    """The version :func:`load_bundle` would give ``directory``, read from its metadata only."""
    meta = Path(directory) / METADATA_NAME
    if not meta.is_file():
        raise ModelError(
            f"{meta} not found; train a model with `nengli train` into {directory} first"
        )
    return hashlib.sha256(meta.read_bytes()).hexdigest()[:16]


def save_recommender(
    recommender: HybridRecommender,
    directory: str | Path,
    metadata: Mapping[str, Any] | None = None,
    extra_arrays: Mapping[str, Mapping[str, NDArray[Any]]] | None = None,
) -> Path:
    """Write ``recommender`` (and the given extra files) as a verified model directory."""
    document = {"kind": RECOMMENDER_KIND, "params": recommender.get_params(), **(metadata or {})}
    return save_model_dir(directory, {**recommender.get_arrays(), **(extra_arrays or {})}, document)


def save_bundle(bundle: ModelBundle, directory: str | Path) -> Path:
    """Write the bundle's models and ``bundle.metadata`` as one verified model directory."""
    diagnosis = {key: np.asarray(value) for key, value in bundle.diagnosis.get_arrays().items()}
    return save_recommender(
        bundle.recommender, directory, bundle.metadata, extra_arrays={DIAGNOSIS_FILE: diagnosis}
    )


def _recommender(
    root: Path, arrays: Mapping[str, Mapping[str, NDArray[Any]]], metadata: Mapping[str, Any]
) -> HybridRecommender:
    version = bundle_version(root)
    params = metadata.get("params", {})
    if not isinstance(params, dict):
        raise ModelError(f"{root / METADATA_NAME}: 'params' is not an object; retrain the model")
    try:
        recommender = HybridRecommender.from_arrays(arrays, params, model_version=version)
    except TypeError as error:  # from_arrays turns bad arrays into ModelError; this is params
        raise ModelError(
            f"{root / METADATA_NAME}: 'params' names an unknown hyperparameter ({error}); "
            "retrain the model with this version"
        ) from error
    _trial(root, recommender)
    return recommender


def _trial(root: Path, recommender: HybridRecommender) -> None:
    """Rank once for the first teacher, so a model that cannot answer never goes live."""
    if not len(recommender.teachers_.teacher_ids):
        return
    try:
        for personalized in (True, False):
            recommender.rank_row(0, "course", personalized, depth=1)
    except NengliError:
        raise
    except Exception as error:  # any crash here would be a 500 on every request
        raise ModelError(
            f"the model in {root} fails a trial recommendation ({type(error).__name__}: "
            f"{error}); retrain or restore it"
        ) from error


def load_recommender(directory: str | Path) -> HybridRecommender:
    """Only the recommender of a model directory (the diagnosis, if any, is verified, not built).

    Raises
    ------
    ModelError
        As :func:`load_bundle`.
    """
    root = Path(directory)
    arrays, metadata = load_model_dir(root)
    return _recommender(root, arrays, metadata)


def load_bundle(
    directory: str | Path,
    item_bank: ItemBank | None = None,
    framework: Framework | None = None,
) -> ModelBundle:
    """Verify every file of the model directory, then rebuild the recommender and diagnosis.

    Parameters
    ----------
    directory
        A directory written by :func:`save_bundle` (``nengli train``).
    item_bank, framework
        What the diagnosis must fit (default: the shipped item bank and framework).

    Raises
    ------
    ModelError
        A missing directory or file, a sha256 that differs from ``metadata.json``, metadata that
        is not an object, a damaged archive, an array of another dtype or shape than the
        metadata says, arrays that do not fit together or this item bank / framework, or a
        model that fails a trial recommendation.
    """
    root = Path(directory)
    framework = framework or default_framework()
    item_bank = item_bank or load_item_bank(framework=framework)
    arrays, metadata = load_model_dir(root)
    if DIAGNOSIS_FILE not in arrays:
        raise ModelError(f"{root} has no {DIAGNOSIS_FILE}; retrain it with `nengli train`")
    recommender = _recommender(root, arrays, metadata)
    try:
        diagnosis = DiagnosisModel.from_arrays(arrays[DIAGNOSIS_FILE], item_bank, framework)
    except NengliError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise ModelError(
            f"{root / DIAGNOSIS_FILE} cannot be rebuilt ({type(error).__name__}: {error}); "
            "retrain or restore the model"
        ) from error
    return ModelBundle(
        diagnosis=diagnosis,
        recommender=recommender,
        metadata=metadata,
        model_dir=root,
        version=recommender.model_version,
    )
