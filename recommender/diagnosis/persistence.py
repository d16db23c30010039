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
from recommender.diagnosis.fusion import FusionConfig
from recommender.diagnosis.higher_order import HigherOrderDINA

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
        "fusion_config": np.array(model._fusion().model_dump_json()),
        "adaptive": np.array([model.sd_threshold, float(model.max_items)]),
        "peer_group": np.array(model.peer_group),
    }


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
        model._setup(item_bank, framework)
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
