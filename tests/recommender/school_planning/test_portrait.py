"""Digital portraits: heatmaps per scope, gaps, JSON and figures (with and without a CJK font)."""

from __future__ import annotations

import json

import pytest

from competency_model.errors import NotFoundError
from recommender.school_planning import attach_teachers, mastery_matrix
from recommender.school_planning.figures import save_portrait_figures
from recommender.school_planning.portrait import build_portrait


@pytest.fixture(scope="module")
def joined(wide_mastery, teachers, framework):
    return attach_teachers(mastery_matrix(wide_mastery, framework.codes), teachers)


@pytest.mark.parametrize(
    ("scope", "key", "columns"),
    [
        ("school", "S000001", ["小学数学组", "小学语文组"]),
        ("district", "丰县", ["S000003"]),
        ("region", "江苏", ["丰县", "江宁区", "玄武区"]),
    ],
)
def test_heatmap_columns_follow_the_scope(scope, key, columns, joined, schools, framework):
    portrait = build_portrait(scope, key, joined, schools, framework.codes)
    assert sorted(portrait.heatmap.columns) == sorted(columns)
    assert list(portrait.heatmap.index) == framework.codes


def test_region_gaps_by_hand(joined, schools, framework) -> None:
    """Urban = schools 1 and 2 (0.9, 0.6 → 0.75), rural = school 3 (0.3); A9 rural = 0.05."""
    portrait = build_portrait("region", "江苏", joined, schools, framework.codes)
    assert portrait.urban_rural.loc["A1", "gap"] == pytest.approx(0.75 - 0.3)
    assert portrait.urban_rural.loc["A9", "rural"] == pytest.approx(0.05)
    assert portrait.environment.loc["A1", "gap"] == pytest.approx(0.9 - 0.3)
    assert portrait.n_teachers == 12 and portrait.n_schools == 3


def test_portrait_is_json_ready(joined, schools, framework) -> None:
    portrait = build_portrait("school", "S000002", joined, schools, framework.codes)
    text = json.dumps(portrait.to_dict(), ensure_ascii=False)
    assert "小学数学组" in text


def test_unknown_scope_key_is_named(joined, schools, framework) -> None:
    with pytest.raises(NotFoundError, match="鼓楼区"):
        build_portrait("district", "鼓楼区", joined, schools, framework.codes)


@pytest.mark.parametrize("font", ["auto", None])
def test_figures_are_written(tmp_path, font, joined, schools, framework) -> None:
    portrait = build_portrait("school", "S000001", joined, schools, framework.codes)
    result = save_portrait_figures(portrait, tmp_path, formats=("png", "svg"), font=font)
    assert len(result["files"]) == 6
    assert all((tmp_path / name).stat().st_size > 0 for name in ("heatmap.png", "gaps.svg"))
    if font is None:  # no CJK font: group names become codes, mapping returned
        assert set(result["label_map"].values()) == {"小学数学组", "小学语文组"}
