"""Export a school plan as the school's 实施方案 draft: Markdown for reading, XLSX for editing.

Schools hand these documents to their district, so the labels are Chinese, point codes carry
their names, and every figure in the document is one the plan computed (nothing is filled in).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from competency_model.catalog import Catalog
from competency_model.export_safety import append_xlsx_row, markdown_cell
from competency_model.framework import DIMENSION_LABELS_ZH, ENVIRONMENT_LABELS_ZH, Framework
from recommender.school_planning.plan import SchoolPlan

__all__ = ["plan_rows", "to_markdown", "write_xlsx"]


def _title(catalog: Catalog, item_id: str) -> str:
    return catalog.get(item_id).title_zh if item_id in catalog else item_id


def plan_rows(plan: SchoolPlan, framework: Framework, catalog: Catalog) -> list[dict[str, object]]:
    """One row per target point: the table both exports share."""
    rows = []
    for code in plan.targets:
        point = framework.point(code)
        groups = [g for g, codes in plan.group_targets.items() if code in codes]
        rows.append(
            {
                "能力点": f"{code} {point.name_zh}",
                "维度": DIMENSION_LABELS_ZH[point.dimension],
                "全校平均掌握度": plan.mean_mastery[code],
                "需求（平均差距）": plan.need[code],
                "预期提升": plan.expected_improvement[code],
                "推荐课程": "；".join(_title(catalog, i) for i in plan.courses[code]),
                "校本研修活动": "；".join(
                    _title(catalog, i) for i in plan.research_activities[code]
                ),
                "重点教研组": "、".join(groups),
            }
        )
    return rows


def to_markdown(plan: SchoolPlan, framework: Framework, catalog: Catalog) -> str:
    """The plan as a Markdown 实施方案 draft."""
    env = ENVIRONMENT_LABELS_ZH.get(plan.environment, plan.environment)
    lines = [
        f"# {plan.school_id} 信息技术应用能力提升工程2.0 校本实施方案（草案）",
        "",
        f"- 学校环境：{env}",
        f"- 执行政策：{plan.policy}",
        f"- 参与诊断教师：{plan.n_teachers} 人",
        f"- 全校目标能力点：{'、'.join(plan.targets)}",
        "",
        "## 目标能力点",
        "",
    ]
    rows = plan_rows(plan, framework, catalog)
    if rows:
        header = list(rows[0])
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in rows:
            cells = [f"{v:.2f}" if isinstance(v, float) else markdown_cell(v) for v in row.values()]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## 维度覆盖", ""]
    for dimension, codes in plan.dimension_coverage.items():
        lines.append(f"- {DIMENSION_LABELS_ZH[dimension]}：{'、'.join(codes) or '未覆盖'}")
    if plan.group_targets:
        lines += ["", "## 教研组重点", ""]
        for group, codes in plan.group_targets.items():
            lines.append(f"- {markdown_cell(group)}：{'、'.join(codes)}")
    if plan.notes:
        lines += ["", "## 说明", ""] + [f"- {note}" for note in plan.notes]
    lines += [
        "",
        "预期提升 = 每位教师把政策学时平均分配到各目标能力点（线上、实践各半）时，"
        "学习路径增益模型给出的平均掌握度提升（递减收益，不超过差距）。",
        "",
    ]
    return "\n".join(lines)


def write_xlsx(plan: SchoolPlan, path: str | Path, framework: Framework, catalog: Catalog) -> Path:
    """Write the plan to an XLSX workbook (sheets 目标能力点, 维度覆盖, 教研组重点)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "目标能力点"
    rows = plan_rows(plan, framework, catalog)
    header = list(rows[0]) if rows else ["能力点"]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_xlsx_row(sheet, row.values())
    coverage = book.create_sheet("维度覆盖")
    coverage.append(["维度", "目标能力点"])
    for dimension, codes in plan.dimension_coverage.items():
        coverage.append([DIMENSION_LABELS_ZH[dimension], "、".join(codes)])
    groups = book.create_sheet("教研组重点")
    groups.append(["教研组", "重点能力点"])
    for group, codes in plan.group_targets.items():
        append_xlsx_row(groups, [group, "、".join(codes)])
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target
