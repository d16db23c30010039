"""mastery_matrix: long (diagnosis) and wide (truth) layouts give the same teacher × point table."""

from __future__ import annotations

import pytest

from competency_model.errors import ImportRowError
from recommender.school_planning import mastery_matrix


def test_long_and_wide_layouts_agree(wide_mastery, framework) -> None:
    long = wide_mastery.melt(
        id_vars="teacher_id", var_name="point", value_name="mastery_probability"
    )
    from_long = mastery_matrix(long, framework.codes)
    from_wide = mastery_matrix(wide_mastery, framework.codes)
    assert from_long.sort_index().equals(from_wide.sort_index())
    assert list(from_long.columns) == framework.codes


def test_out_of_range_mastery_names_teacher_and_point(wide_mastery, framework) -> None:
    bad = wide_mastery.copy()
    bad.loc[2, "B3"] = 1.7
    with pytest.raises(ImportRowError, match="T0000003.*B3"):
        mastery_matrix(bad, framework.codes)


def test_unknown_layout_is_explained(framework) -> None:
    import pandas as pd

    with pytest.raises(ImportRowError, match="teacher_id, point, mastery_probability"):
        mastery_matrix(pd.DataFrame({"who": ["T1"]}), framework.codes)
