"""plan_school / plan_schools and their Markdown and XLSX exports."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from competency_model.errors import NotFoundError
from competency_model.framework import DIMENSIONS
from recommender.school_planning import (
    attach_teachers,
    mastery_matrix,
    plan_school,
    plan_schools,
    to_markdown,
    write_xlsx,
)


@pytest.fixture(scope="module")
def joined(wide_mastery, teachers, framework):
    return attach_teachers(mastery_matrix(wide_mastery, framework.codes), teachers)


@pytest.mark.parametrize("school_id", ["S000001", "S000002", "S000003"])
def test_school_plan_covers_all_four_dimensions(
    school_id, schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school(
        school_id, schools, joined, jiangsu, shipped_catalog, framework, group_min_teachers=2
    )
    assert all(plan.dimension_coverage[d] for d in DIMENSIONS)
    assert {framework.point(c).dimension for c in plan.targets} == set(DIMENSIONS)
    assert len(plan.targets) >= jiangsu.min_points


def test_school_plan_respects_the_environment(
    schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school("S000003", schools, joined, jiangsu, shipped_catalog, framework)
    assert all(framework.point(c).environment == "multimedia" for c in plan.targets)


def test_weakest_point_becomes_a_target(
    schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school("S000003", schools, joined, jiangsu, shipped_catalog, framework)
    assert "A9" in plan.targets
    assert plan.need["A9"] == pytest.approx(0.6 - 0.05)


def test_expected_improvement_is_positive_and_capped(
    schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school("S000003", schools, joined, jiangsu, shipped_catalog, framework)
    for code in plan.targets:
        gap = 1 - plan.mean_mastery[code]
        assert 0 < plan.expected_improvement[code] <= gap


def test_every_target_has_courses_and_research(
    schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school("S000002", schools, joined, jiangsu, shipped_catalog, framework)
    for code in plan.targets:
        assert plan.courses[code] and plan.research_activities[code]
        assert all(code in shipped_catalog.get(i).points for i in plan.courses[code])


def test_unknown_school_is_named(schools, joined, jiangsu, shipped_catalog, framework) -> None:
    with pytest.raises(NotFoundError, match="S999999"):
        plan_school("S999999", schools, joined, jiangsu, shipped_catalog, framework)


def test_plan_schools_plans_every_school(
    schools, teachers, wide_mastery, jiangsu, shipped_catalog, framework
) -> None:
    mastery = mastery_matrix(wide_mastery, framework.codes)
    plans = plan_schools(schools, teachers, mastery, jiangsu, shipped_catalog, framework)
    assert [p.school_id for p in plans] == ["S000001", "S000002", "S000003"]


def test_exports_contain_every_target(
    tmp_path, schools, joined, jiangsu, shipped_catalog, framework
) -> None:
    plan = plan_school(
        "S000001", schools, joined, jiangsu, shipped_catalog, framework, group_min_teachers=2
    )
    text = to_markdown(plan, framework, shipped_catalog)
    path = write_xlsx(plan, tmp_path / "plan.xlsx", framework, shipped_catalog)
    sheet = load_workbook(path)["目标能力点"]
    first_column = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    for code in plan.targets:
        assert f"{code} {framework.point(code).name_zh}" in text
        assert any(str(cell).startswith(code + " ") for cell in first_column)
    assert set(load_workbook(path).sheetnames) == {"目标能力点", "维度覆盖", "教研组重点"}
