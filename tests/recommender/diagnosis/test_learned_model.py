"""DiagnosisModel(structure="learned") from any subset of inputs, and the per-subset report."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import empty_table
from recommender.diagnosis.model import DiagnosisModel
from recommender.diagnosis.subset_report import SUBSETS


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_learned_model_works_from_each_input_subset(small_province, subset):
    kept = SUBSETS[subset]
    view = dataclasses.replace(
        small_province,
        **{t: empty_table(t) for t in ("responses", "grades", "events") if t not in kept},
    )
    framework = default_framework()
    model = DiagnosisModel(structure="learned", max_iter=5).fit(
        view, load_item_bank(framework=framework), framework, load_catalog()
    )
    result = model.diagnose_arrays(view)
    p = result["mastery_probability"]
    assert p.shape == (len(view.teachers), 30)
    assert np.all((p > 0) & (p < 1))
    has_direct = result["evidence_count"] > 0
    assert has_direct.any()
