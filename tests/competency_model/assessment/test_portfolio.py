"""E-portfolio assembly and its JSON / HTML / XLSX / school exports."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from competency_model import default_framework, load_policy
from competency_model.assessment import (
    DiagnosisEntry,
    EvidenceRecord,
    GradeEntry,
    Portfolio,
    Review,
    TeacherProfile,
    build_portfolio,
    portfolio_html,
    portfolio_json,
    portfolio_xlsx,
    school_export,
)
from competency_model.catalog import default_catalog
from competency_model.errors import NengliError

FW = default_framework()
POLICY = load_policy("jiangsu")
CATALOG = {i.item_id: i for i in default_catalog().items}
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def evidence(teacher: str, submission: str, at: datetime) -> list[EvidenceRecord]:
    common = {
        "teacher_id": teacher,
        "submission_id": submission,
        "point": "A6",
        "submitted_at": at,
        "lesson": "分数的初步认识",
        "class_name": "三(2)班",
    }
    return [
        EvidenceRecord(
            evidence_id=f"{submission}-1",
            artifact="教学设计",
            title="设计",
            file_ref="f/1",
            **common,
        ),
        EvidenceRecord(
            evidence_id=f"{submission}-2",
            artifact="课堂实录片段",
            title="<b>片段</b>",
            media="video",
            duration_minutes=8,
            link="https://v.example.cn/1",
            **common,
        ),
        EvidenceRecord(
            evidence_id=f"{submission}-3",
            artifact="教学反思",
            title="反思",
            file_ref="f/3",
            **common,
        ),
    ]


def school_reviews(records: list[EvidenceRecord], rating: str, at: datetime) -> list[Review]:
    out = []
    for r in records:
        out.append(
            Review(
                evidence_id=r.evidence_id,
                reviewer_id=r.teacher_id,
                role="self",
                rating="优秀",
                comment="自评",
                created_at=at,
            )
        )
        for peer in ("T2", "T3"):
            out.append(
                Review(
                    evidence_id=r.evidence_id,
                    reviewer_id=peer,
                    role="peer",
                    rating="合格",
                    comment="互评",
                    created_at=at + timedelta(hours=1),
                )
            )
        out.append(
            Review(
                evidence_id=r.evidence_id,
                reviewer_id="school",
                role="school",
                rating=rating,
                comment="学校评定",
                created_at=at + timedelta(hours=2),
            )
        )
    return out


def make(teacher: str = "T1", school: str = "S1") -> Portfolio:
    first = evidence(teacher, f"{teacher}-sub1", T0)
    second = evidence(teacher, f"{teacher}-sub2", T0 + timedelta(days=30))
    reviews = school_reviews(first, "不合格", T0) + school_reviews(
        second, "合格", T0 + timedelta(days=31)
    )
    course = next(i for i in CATALOG.values() if i.kind == "online_video")
    events = [
        {"teacher_id": teacher, "item_id": course.item_id, "event": "complete", "timestamp": T0}
    ]
    return build_portfolio(
        TeacherProfile(
            teacher_id=teacher,
            school_id=school,
            stage="小学",
            subject="数学",
            research_group="小学数学组",
        ),
        policy=POLICY,
        framework=FW,
        catalog=CATALOG,
        cycle_start=date(2025, 9, 1),
        as_of=T0 + timedelta(days=60),
        chosen_points=["A1", "A6", "B6"],
        diagnoses=[DiagnosisEntry(point="A6", mastery_probability=0.31, diagnosed_at=T0)],
        events=events,
        evidence=first + second,
        reviews=reviews,
    )


def test_portfolio_holds_rounds_in_order_and_the_latest_result() -> None:
    p = make()
    assert [r.submission_id for r in p.rounds] == ["T1-sub1", "T1-sub2"]
    assert [r.review.school_result for r in p.rounds] == ["不合格", "合格"]
    assert p.results == {"A6": "合格"}
    assert p.rounds[0].review.disagreement  # peers 合格, school 不合格


def test_portfolio_counts_learning_and_status() -> None:
    p = make()
    assert len(p.learning) == 1 and p.status.process.hours == p.learning[0].hours
    assert p.status.status in {"on_track", "at_risk"}
    assert {v.rule for v in p.status.missing} >= {"total_hours", "unassessed_points"}


def test_imported_grades_fill_points_without_a_rated_round() -> None:
    mine = make("T1")
    imported = [
        GradeEntry(point="A1", grade="优秀", assessed_at=T0 - timedelta(days=400)),
        GradeEntry(point="A6", grade="优秀", assessed_at=T0 - timedelta(days=400)),
    ]
    first = evidence("T1", "T1-sub1", T0)
    p = build_portfolio(
        mine.teacher,
        policy=POLICY,
        framework=FW,
        catalog=CATALOG,
        cycle_start=date(2025, 9, 1),
        as_of=T0 + timedelta(days=5),
        grades=imported,
        evidence=first,
        reviews=school_reviews(first, "合格", T0),
    )
    assert p.results == {"A1": "优秀", "A6": "合格"}  # the school-rated round wins for A6
    assert [g.point for g in p.grades] == ["A1", "A6"]


def test_other_teachers_records_are_ignored() -> None:
    mine = make("T1")
    foreign = evidence("T9", "T9-sub", T0)
    p = build_portfolio(
        mine.teacher,
        policy=POLICY,
        framework=FW,
        catalog=CATALOG,
        cycle_start=date(2025, 9, 1),
        as_of=T0,
        evidence=foreign,
    )
    assert p.rounds == [] and p.results == {}


def test_json_export_round_trips() -> None:
    p = make()
    assert Portfolio.model_validate_json(portfolio_json(p)) == p


def test_html_export_is_printable_and_escaped() -> None:
    page = portfolio_html(make())
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert "<b>片段</b>" not in page and "&lt;b&gt;片段&lt;/b&gt;" in page
    assert "<script" not in page and "不合格" in page


def test_xlsx_export_has_one_sheet_per_section() -> None:
    book = load_workbook(io.BytesIO(portfolio_xlsx(make())))
    assert [s.split()[0] for s in book.sheetnames] == [
        "概况",
        "诊断",
        "成绩",
        "学习",
        "证据",
        "评审",
        "结果",
    ]
    evidence_sheet = book[book.sheetnames[4]]
    assert evidence_sheet.max_row == 1 + 6  # header + two rounds of three items


@pytest.mark.parametrize("fmt", ["json", "html", "xlsx"])
def test_school_export_is_one_file_with_every_teacher(fmt: str) -> None:
    data = school_export([make("T2"), make("T1")], "S1", fmt)  # type: ignore[arg-type]
    if fmt == "json":
        doc = json.loads(data)
        assert doc["teachers"] == 2 and [p["teacher"]["teacher_id"] for p in doc["portfolios"]] == [
            "T1",
            "T2",
        ]
    elif fmt == "html":
        text = data.decode("utf-8")
        assert text.count('<section class="teacher">') == 3 and "T2" in text
    else:
        book = load_workbook(io.BytesIO(data))
        summary = book[book.sheetnames[0]]
        assert [row[0].value for row in summary.iter_rows(min_row=2)] == ["T1", "T2"]
        assert book[book.sheetnames[2]].max_row == 1 + 12


def test_school_export_refuses_another_schools_teacher() -> None:
    with pytest.raises(NengliError, match="T5"):
        school_export([make("T1"), make("T5", school="S2")], "S1")


def test_school_export_refuses_unknown_format() -> None:
    with pytest.raises(NengliError, match="pdf"):
        school_export([make()], "S1", "pdf")  # type: ignore[arg-type]
