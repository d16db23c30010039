"""The one level rule: 薄弱 below 0.5, 待提升 up to 0.8, 已掌握 from 0.8."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.errors import NengliError
from recommender.diagnosis.levels import is_gap, mastery_level, mastery_levels


@pytest.mark.parametrize(
    ("probability", "level"),
    [
        (0.0, "gap"),
        (0.49, "gap"),
        (0.5, "developing"),
        (0.79, "developing"),
        (0.8, "mastered"),
        (0.88, "mastered"),
        (1.0, "mastered"),
    ],
)
def test_level_of_probability(probability, level):
    assert mastery_level(probability) == level


def test_batch_levels_match_single():
    values = np.linspace(0, 1, 101)
    assert list(mastery_levels(values)) == [mastery_level(v) for v in values]


def test_never_a_gap_above_one_half():
    assert not is_gap(np.linspace(0.5, 1.0, 51)).any()


def test_out_of_range_probability_names_value():
    with pytest.raises(NengliError, match="1.2"):
        mastery_level(1.2)
