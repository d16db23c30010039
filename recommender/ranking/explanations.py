"""Reasons for each recommended item, in Chinese and English.

A teacher (and the school's 管理团队) should see *why* an item is on the list, in terms of the
signals that put it there: which of their gap points it develops and how sure the diagnosis is,
whether those points' prerequisites are already in place, and what colleagues did. Every reason
is built from the same numbers the ranker used, never from text written per course.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recommender.diagnosis.levels import LEVEL_LABELS, mastery_level
from recommender.ranking.signals import ItemTable, PointTable

__all__ = ["ExplanationContext", "explain_item"]


@dataclass(frozen=True)
class ExplanationContext:
    """What is known about the teacher when explaining (``mastery`` is ``None`` if not profiled)."""

    mastery: NDArray[np.float64] | None
    mastered_threshold: float
    stage: str | None
    subject: str | None
    research_group: str | None
    #: Per-item colleague counts (same 教研组 completed, same school took), self excluded.
    group_completed: NDArray[np.float32] | None
    school_took: NDArray[np.float32] | None
    item_took: NDArray[np.float32]
    #: Per-item collaborative-filtering percentile among the candidates (None without history).
    cf_percentile: NDArray[np.float64] | None = None
    #: Points the school chose for 整校推进 (bool per point), if known.
    chosen_points: NDArray[np.bool_] | None = None


def _point_label(points: PointTable, column: int, language: str) -> str:
    name = points.names_zh[column] if language == "zh" else points.names_en[column]
    return f"{points.codes[column]} {name}"


def _gap_reasons(
    row: int, items: ItemTable, points: PointTable, context: ExplanationContext
) -> tuple[list[str], list[str]]:
    assert context.mastery is not None
    mastery = context.mastery
    columns = np.flatnonzero(items.point_weights[row] > 0)
    need = items.point_weights[row, columns] * (1.0 - mastery[columns])
    order = columns[np.argsort(-need, kind="stable")]
    zh: list[str] = []
    en: list[str] = []
    # Labels follow the one decision rule (diagnosis.levels): never 薄弱 above 0.5.
    gaps = [c for c in order if mastery_level(float(mastery[c])) != "mastered"][:2]
    for column in gaps:
        probability = float(mastery[column])
        label_zh, label_en = LEVEL_LABELS[mastery_level(probability)]
        zh.append(
            f"针对您的{label_zh}能力点 {_point_label(points, column, 'zh')}"
            f"（当前掌握概率 {probability:.2f}）"
        )
        en.append(
            f"Develops your {label_en} point {_point_label(points, column, 'en')} "
            f"(current mastery probability {probability:.2f})"
        )
    if not gaps:
        return zh, en
    main = gaps[0]
    prerequisites = points.prereq_source[points.prereq_target == main]
    if prerequisites.size == 0:
        zh.append(f"{points.codes[main]} 没有前置能力点要求，现在即可开始学习")
        en.append(f"{points.codes[main]} has no prerequisite points, so you can start now")
        return zh, en
    met = [int(p) for p in prerequisites if mastery_level(float(mastery[p])) == "mastered"]
    unmet = [int(p) for p in prerequisites if mastery_level(float(mastery[p])) != "mastered"]
    if met:
        zh.append(
            "前置能力点已具备：" + "、".join(f"{points.codes[p]}（{mastery[p]:.2f}）" for p in met)
        )
        en.append(
            "Prerequisites in place: "
            + ", ".join(f"{points.codes[p]} ({mastery[p]:.2f})" for p in met)
        )
    if unmet:
        zh.append(
            "建议同时巩固前置能力点："
            + "、".join(f"{points.codes[p]}（{mastery[p]:.2f}）" for p in unmet)
        )
        en.append(
            "Consider strengthening the prerequisite(s) too: "
            + ", ".join(f"{points.codes[p]} ({mastery[p]:.2f})" for p in unmet)
        )
    return zh, en


def _chosen_reasons(
    row: int, items: ItemTable, points: PointTable, context: ExplanationContext
) -> tuple[list[str], list[str]]:
    if context.chosen_points is None:
        return [], []
    columns = [c for c in np.flatnonzero(items.point_weights[row] > 0) if context.chosen_points[c]]
    if not columns:
        return [], []
    codes = "、".join(str(points.codes[c]) for c in columns)
    return (
        [f"属于本校整校推进选定的能力点 {codes}"],
        [
            f"Covers {', '.join(str(points.codes[c]) for c in columns)}, chosen by your school (整校推进)"
        ],
    )


def _social_reasons(row: int, context: ExplanationContext) -> tuple[list[str], list[str]]:
    zh: list[str] = []
    en: list[str] = []
    group = int(context.group_completed[row]) if context.group_completed is not None else 0
    school = int(context.school_took[row]) if context.school_took is not None else 0
    if group > 0:
        label = context.research_group or "教研组"
        zh.append(f"您所在的{label}有 {group} 位同事已完成")
        noun = "colleague" if group == 1 else "colleagues"
        en.append(f"{group} {noun} in your 教研组 ({label}) completed it")
    elif school > 0:
        zh.append(f"本校有 {school} 位同事学习过")
        en.append(f"{school} {'colleague' if school == 1 else 'colleagues'} at your school took it")
    if context.cf_percentile is not None and context.cf_percentile[row] >= 0.9:
        zh.append("与您学习记录相似的教师也常选这一项")
        en.append("Teachers whose learning history resembles yours often chose it")
    took = int(context.item_took[row])
    if not zh:
        zh.append(f"全省已有 {took} 位教师学习过")
        en.append(
            f"{took} {'teacher has' if took == 1 else 'teachers have'} taken it province-wide"
        )
    return zh, en


def _fit_reasons(
    row: int, items: ItemTable, context: ExplanationContext
) -> tuple[list[str], list[str]]:
    if context.stage is None:
        return [], []
    stages_ok = bool(items.stage_fit(context.stage)[row])
    subjects = items.subjects[row].split(";")
    if not stages_ok:
        return [], []
    if context.subject == "通用":
        return ([f"面向{context.stage}教师设计"], [f"Designed for {context.stage} teachers"])
    if context.subject in subjects:
        return (
            [f"面向{context.stage}{context.subject}教师设计"],
            [f"Designed for {context.stage} {context.subject} teachers"],
        )
    if "通用" in subjects:
        return (
            [f"适用于{context.stage}各学科（学科通用）"],
            [f"Suitable for every subject at {context.stage} level (学科通用)"],
        )
    return [], []


def explain_item(
    row: int, items: ItemTable, points: PointTable, context: ExplanationContext
) -> tuple[list[str], list[str]]:
    """Reasons (zh, en) for catalog row ``row``; both lists are non-empty and aligned."""
    zh: list[str] = []
    en: list[str] = []
    if context.mastery is not None:
        gap_zh, gap_en = _gap_reasons(row, items, points, context)
        zh += gap_zh
        en += gap_en
    chosen_zh, chosen_en = _chosen_reasons(row, items, points, context)
    zh += chosen_zh
    en += chosen_en
    fit_zh, fit_en = _fit_reasons(row, items, context)
    social_zh, social_en = _social_reasons(row, context)
    zh += fit_zh + social_zh
    en += fit_en + social_en
    hours = float(items.hours[row])
    zh.append(f"完成可计 {hours:g} 学时")
    en.append(f"Counts for {hours:g} training hours (学时) on completion")
    return zh, en
