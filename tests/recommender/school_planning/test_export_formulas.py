"""A 教研组 named like a formula stays text in the plan's XLSX and Markdown (issue 17, row 4)."""

from __future__ import annotations

import dataclasses

import pytest
from openpyxl import load_workbook

from recommender.school_planning import (
    attach_teachers,
    mastery_matrix,
    plan_school,
    to_markdown,
    write_xlsx,
)

EVIL = '=HYPERLINK("http://evil.example/","教研组")'


@pytest.fixture(scope="module")
def evil_plan(wide_mastery, teachers, schools, jiangsu, shipped_catalog, framework):
    joined = attach_teachers(mastery_matrix(wide_mastery, framework.codes), teachers)
    plan = plan_school(
        "S000001", schools, joined, jiangsu, shipped_catalog, framework, group_min_teachers=2
    )
    return dataclasses.replace(plan, group_targets={EVIL: plan.targets[:2]})


def test_plan_xlsx_stores_formula_group_as_text(
    evil_plan, tmp_path, framework, shipped_catalog
) -> None:
    path = write_xlsx(evil_plan, tmp_path / "plan.xlsx", framework, shipped_catalog)
    book = load_workbook(path)

    group = book["教研组重点"]["A2"]
    focus = [row[-1] for row in book["目标能力点"].iter_rows(min_row=2)]

    assert (group.value, group.data_type) == (EVIL, "s")
    assert any(cell.value == EVIL and cell.data_type == "s" for cell in focus)


def test_plan_markdown_neutralises_formula_group(evil_plan, framework, shipped_catalog) -> None:
    text = to_markdown(evil_plan, framework, shipped_catalog)

    assert f"- '{EVIL}：" in text
    assert f"| '{EVIL} |" in text
