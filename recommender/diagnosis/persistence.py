"""Model-directory arrays of :class:`~recommender.diagnosis.model.DiagnosisModel`.

Everything is a numeric or fixed-width string array so the directory loads with
``allow_pickle=False``; restoring checks that the item bank and framework are the ones the model
was fitted on, because a silently shifted Q-matrix would score every answer against the wrong
point.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.errors import ModelError
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from recommender.diagnosis.factor_persistence import (
    factor_arrays,
    restore_factor,
    restore_measured,
)
from recommender.diagnosis.fusion import FusionConfig
from recommender.diagnosis.higher_order import HigherOrderDINA
from recommender.diagnosis.mixture import LatentClassMastery

__all__ = ["model_arrays", "restore_model"]

M = TypeVar("M")


def model_arrays(model: Any) -> dict[str, NDArray[Any]]:
    """The arrays of a fitted diagnosis model (see module docstring)."""
    e = model.estimator_
    w = model.point_weights_
    return {
        "emission": e.emission_,
        "slope": e.slope_,
        "intercept": e.intercept_,
        "group_offset": e.group_offset_,
        "n_sweeps": np.array(e.n_sweeps),
        "n_quadrature": np.array(e.n_quadrature),
        "rating_mean": np.array(e.rating_mean_),
        "rating_centring": np.array(e.rating_centring),
        "prior": np.array(e.prior),
        "item_ids": np.array(model.item_ids_, dtype=str),
        "point_codes": np.array(model.codes_, dtype=str),
        "group_names": model.group_names_,
        "weight_item_ids": w["item_id"].to_numpy(dtype=str),
        "weight_points": w["point"].to_numpy(dtype=str),
        "weight_values": w["weight"].to_numpy(dtype=np.float64),
        "weight_kinds": w["kind"].to_numpy(dtype=str),
        "fusion_config": np.array(model.fusion_settings().model_dump_json()),
        "adaptive": np.array([model.sd_threshold, float(model.max_items)]),
        "peer_group": np.array(model.peer_group),
        **_mixture_arrays(model),
    }


def _mixture_arrays(model: Any) -> dict[str, NDArray[Any]]:
    """The learned cross-point model's state, prefixed ``mixture_``."""
    if hasattr(model, "factor_model_"):
        return {
            "school_ids": model.school_ids_,
            "structure": np.array("factor"),
            "half_life_days": np.array(
                np.nan if model.half_life_days is None else model.half_life_days
            ),
            **factor_arrays(model),
        }
    if not hasattr(model, "mastery_model_"):
        return {"school_ids": model.school_ids_, "structure": np.array("fusion")}
    m = model.mastery_model_
    kinds = sorted(m.emission_)
    return {
        "mixture_class_mastery": m.class_mastery_,
        "mixture_transition": m.transition_,
        "mixture_group_weights": m.group_weights_,
        "mixture_province_weights": m.province_weights_,
        "mixture_cluster_counts": m.cluster_counts_,
        "mixture_smoothing": np.array([m.group_smoothing, m.cluster_smoothing]),
        "mixture_kinds": np.array(model.evidence_kinds_, dtype=str),
        "mixture_emission_kinds": np.array(kinds, dtype=str),
        **{f"mixture_emission_{k}": m.emission_[k] for k in kinds},
        "school_ids": model.school_ids_,
        "structure": np.array("learned"),
        "half_life_days": np.array(
            np.nan if model.half_life_days is None else float(model.half_life_days)
        ),
    }


def _restore_mixture(arrays: Mapping[str, NDArray[Any]]) -> LatentClassMastery:
    smoothing = np.asarray(arrays["mixture_smoothing"], dtype=np.float64)
    m = LatentClassMastery(
        n_classes=int(np.asarray(arrays["mixture_class_mastery"]).shape[0]),
        group_smoothing=float(smoothing[0]),
        cluster_smoothing=float(smoothing[1]),
    )
    m.class_mastery_ = np.asarray(arrays["mixture_class_mastery"], dtype=np.float64)
    m.transition_ = np.asarray(arrays["mixture_transition"], dtype=np.float64)
    m.group_weights_ = np.asarray(arrays["mixture_group_weights"], dtype=np.float64)
    m.province_weights_ = np.asarray(arrays["mixture_province_weights"], dtype=np.float64)
    m.cluster_counts_ = np.asarray(arrays["mixture_cluster_counts"], dtype=np.float64)
    m.n_groups_, m.n_clusters_ = len(m.group_weights_), len(m.cluster_counts_)
    m.emission_ = {
        str(k): np.asarray(arrays[f"mixture_emission_{k}"], dtype=np.float64)
        for k in np.asarray(arrays["mixture_emission_kinds"], dtype=str)
    }
    return m


def restore_model(
    cls: Callable[..., M],
    arrays: Mapping[str, NDArray[Any]],
    item_bank: ItemBank,
    framework: Framework,
) -> M:
    """Rebuild a fitted model of class ``cls`` from :func:`model_arrays` output.

    Raises
    ------
    ModelError
        When an array is missing or the bank/framework differ from the fitted ones.
    """
    try:
        fusion = FusionConfig(**json.loads(str(arrays["fusion_config"])))
        model: Any = cls(
            prior=str(arrays["prior"]),
            peer_group=str(arrays["peer_group"]),
            fusion=fusion,
            sd_threshold=float(arrays["adaptive"][0]),
            max_items=int(arrays["adaptive"][1]),
        )
        model.bind(item_bank, framework)
        model.fusion_ = fusion
        if list(arrays["item_ids"]) != model.item_ids_:
            raise ModelError(
                "the saved diagnosis model was fitted on a different item bank "
                f"({len(arrays['item_ids'])} items); refit or load the matching bank"
            )
        if list(arrays["point_codes"]) != model.codes_:
            raise ModelError("the saved diagnosis model was fitted on a different framework; refit")
        est = HigherOrderDINA(
            prior=str(arrays["prior"]),  # type: ignore[arg-type]
            n_sweeps=int(arrays["n_sweeps"]),
            n_quadrature=int(arrays["n_quadrature"]),
            rating_centring=bool(arrays["rating_centring"]),
        )
        est.rating_mean_ = float(arrays["rating_mean"])
        est.emission_ = np.asarray(arrays["emission"], dtype=np.float64)
        est.slope_ = np.asarray(arrays["slope"], dtype=np.float64)
        est.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        est.group_offset_ = np.asarray(arrays["group_offset"], dtype=np.float64)
        est.q_matrix_ = model.q_matrix_
        est.n_categories_ = model.n_categories_
        model.estimator_ = est
        # model directories written before the learned structure existed have neither key
        model.school_ids_ = np.asarray(arrays.get("school_ids", np.array([], dtype=str)), dtype=str)
        if str(arrays.get("structure", "fusion")) == "factor":
            model.structure = "factor"
            (
                model.factor_model_,
                model.calibration_,
                model.calibrated_,
                model.features_,
                model.evidence_kinds_,
            ) = restore_factor(arrays)
            model.measured_calibration_ = restore_measured(arrays)
            model.point_environment_ = np.asarray(
                arrays.get("factor_point_environment", np.zeros(len(model.codes_))), dtype=np.int8
            )
            half_life = float(arrays["half_life_days"])
            model.half_life_days = None if np.isnan(half_life) else half_life
        if str(arrays.get("structure", "fusion")) == "learned":
            model.structure = "learned"
            model.mastery_model_ = _restore_mixture(arrays)
            model.evidence_kinds_ = [str(k) for k in np.asarray(arrays["mixture_kinds"], dtype=str)]
            half_life = float(arrays["half_life_days"])
            model.half_life_days = None if np.isnan(half_life) else half_life
        model.structure_ = str(arrays.get("structure", "fusion"))
        model.group_names_ = np.asarray(arrays["group_names"], dtype=str)
        model.point_weights_ = pd.DataFrame(
            {
                "item_id": np.asarray(arrays["weight_item_ids"], dtype=str),
                "point": np.asarray(arrays["weight_points"], dtype=str),
                "weight": np.asarray(arrays["weight_values"], dtype=np.float64),
                "kind": np.asarray(arrays["weight_kinds"], dtype=str),
            }
        )
    except KeyError as missing:
        raise ModelError(
            f"diagnosis arrays lack {missing}; the model directory is incomplete"
        ) from None
    return model
