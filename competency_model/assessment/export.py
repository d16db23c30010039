"""Exports of e-portfolios for the provincial platform and the 县区 spot check (抽检).

* :func:`portfolio_json` — the portfolio document as JSON (UTF-8, Chinese kept readable);
* :func:`portfolio_html` — a self-contained printable page (print it to PDF from a browser);
* :func:`portfolio_xlsx` — one workbook, one sheet per section;
* :func:`school_export` — every teacher of a school in **one** file (JSON, HTML or XLSX), so
  a district inspector can open a single attachment and sample teachers from it.

openpyxl is imported only by the XLSX writers, so the rest of ``competency_model`` keeps its
small dependency set.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any, Literal

from competency_model.assessment.portfolio import Portfolio
from competency_model.errors import NengliError
from competency_model.export_safety import append_xlsx_row

__all__ = ["portfolio_html", "portfolio_json", "portfolio_xlsx", "school_export"]

_STATUS_ZH = {"on_track": "按期推进", "at_risk": "存在风险", "complete": "已完成"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;border-bottom:1px solid #999;margin-top:1.5em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;font-size:.9em}
th{background:#f0f0f0}.warn{color:#a00}
section.teacher{page-break-after:always}
@media print{body{margin:0}}
"""


#: Column headers of each portfolio section (bilingual, for the provincial platform).
_HEADERS: dict[str, list[str]] = {
    "概况 summary": ["项目 field", "内容 value"],
    "诊断 diagnoses": ["能力点 point", "掌握概率 mastery", "时间 at"],
    "成绩 grades": ["能力点 point", "等级 grade", "评定时间 assessed"],
    "学习 learning": [
        "编号 item",
        "名称 title",
        "类型 kind",
        "学时 hours",
        "能力点 points",
        "完成 completed",
    ],
    "证据 evidence": [
        "能力点 point",
        "提交 submission",
        "证据 evidence",
        "类型 artifact",
        "标题 title",
        "媒体 media",
        "链接/文件 reference",
        "时长(分) minutes",
        "课题 lesson",
        "班级 class",
        "提交时间 submitted",
    ],
    "评审 reviews": [
        "能力点 point",
        "提交 submission",
        "证据 evidence",
        "自评 self",
        "互评 peers",
        "学校评定 school",
        "分歧 disagreement",
        "评定记录 history",
    ],
    "结果 results": [
        "能力点 point",
        "提交 submission",
        "自评 self",
        "互评 peers",
        "学校 school",
        "状态 status",
    ],
}


def portfolio_json(portfolio: Portfolio) -> str:
    """The portfolio as an indented JSON document."""
    return portfolio.model_dump_json(indent=2)


def _rows(portfolio: Portfolio) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each section as (header, rows); shared by the HTML and XLSX writers."""
    p = portfolio
    st = p.status
    summary: list[list[Any]] = [
        ["教师编号 teacher", p.teacher.teacher_id],
        ["学校 school", p.teacher.school_id],
        ["学段/学科 stage/subject", f"{p.teacher.stage or ''} {p.teacher.subject or ''}".strip()],
        ["教研组 research group", p.teacher.research_group or ""],
        ["政策 policy", p.policy],
        ["所选能力点 chosen points", "、".join(p.chosen_points)],
        ["总学时 hours", st.process.hours],
        ["线上学时 online hours", st.process.online_hours],
        ["实践学时 practice hours", st.process.practice_hours],
        ["校本研修次数 school research", st.process.school_research_sessions],
        ["周期状态 status", f"{_STATUS_ZH[st.status]} ({st.status})"],
        ["待完成 missing", "；".join(v.message_zh for v in st.missing)],
        ["生成时间 generated", p.generated_at.isoformat()],
    ]
    diagnoses = [
        [d.point, round(d.mastery_probability, 3), _iso(d.diagnosed_at)] for d in p.diagnoses
    ]
    learning = [
        [e.item_id, e.title or "", e.kind or "", e.hours, "、".join(e.points), _iso(e.completed_at)]
        for e in p.learning
    ]
    evidence = [
        [
            r.point,
            r.submission_id,
            e.evidence_id,
            e.artifact,
            e.title,
            e.media,
            e.link or e.file_ref or "",
            e.duration_minutes,
            e.lesson or "",
            e.class_name or "",
            _iso(e.submitted_at),
        ]
        for r in p.rounds
        for e in r.evidence
    ]
    reviews = [
        [
            r.point,
            r.submission_id,
            i.evidence_id,
            i.self_rating or "",
            "、".join(f"{k}:{v}" for k, v in sorted(i.peer_ratings.items())),
            i.school_rating or "",
            "是" if i.disagreement else "",
            " → ".join(h.rating for h in i.school_history),
        ]
        for r in p.rounds
        for i in r.review.items
    ]
    results = [
        [
            r.point,
            r.submission_id,
            r.review.self_result or "",
            r.review.peer_result or "",
            r.review.school_result or "",
            r.review.status,
        ]
        for r in p.rounds
    ]
    rows: dict[str, list[list[Any]]] = {
        "概况 summary": summary,
        "诊断 diagnoses": diagnoses,
        "成绩 grades": [[g.point, g.grade, _iso(g.assessed_at)] for g in p.grades],
        "学习 learning": learning,
        "证据 evidence": evidence,
        "评审 reviews": reviews,
        "结果 results": results,
    }
    return {section: (_HEADERS[section], rows[section]) for section in _HEADERS}


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_section(portfolio: Portfolio) -> str:
    parts = [f'<section class="teacher"><h1>电子档案 · {escape(portfolio.teacher.teacher_id)}</h1>']
    for title, (header, rows) in _rows(portfolio).items():
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(_html_table(header, rows) if rows else "<p>（无 none）</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _html_page(title: str, sections: list[str]) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )


def portfolio_html(portfolio: Portfolio) -> str:
    """A printable, self-contained HTML page (no scripts, no external resources)."""
    return _html_page(f"电子档案 {portfolio.teacher.teacher_id}", [_html_section(portfolio)])


def _workbook_bytes(sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> bytes:
    from openpyxl import Workbook  # heavy and only needed here

    book = Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title=title[:31])
        sheet.append(header)
        for row in rows:
            # Teacher-typed text (教研组, titles) is stored as text, never as a formula.
            append_xlsx_row(sheet, row)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def portfolio_xlsx(portfolio: Portfolio) -> bytes:
    """The portfolio as an XLSX workbook (one sheet per section), returned as bytes."""
    return _workbook_bytes(_rows(portfolio))


def school_export(
    portfolios: Sequence[Portfolio],
    school_id: str,
    fmt: Literal["json", "html", "xlsx"] = "xlsx",
) -> bytes:
    """All portfolios of ``school_id`` in one file for the district spot check.

    The XLSX and HTML files lead with one summary row per teacher (hours, status, results) and
    then list every evidence item and review with the teacher's id, so an inspector can filter
    or sample without opening one file per teacher.

    Raises
    ------
    NengliError
        A portfolio of another school is among ``portfolios`` or ``fmt`` is unknown.
    """
    foreign = [p.teacher.teacher_id for p in portfolios if p.teacher.school_id != school_id]
    if foreign:
        raise NengliError(
            f"portfolios of teachers {foreign[:5]} belong to another school than {school_id!r}; "
            "export one school at a time"
        )
    ordered = sorted(portfolios, key=lambda p: p.teacher.teacher_id)
    if fmt == "json":
        doc = {
            "school_id": school_id,
            "teachers": len(ordered),
            "portfolios": [json.loads(portfolio_json(p)) for p in ordered],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    summary_header = [
        "教师 teacher",
        "教研组 group",
        "总学时 hours",
        "线上 online",
        "实践 practice",
        "状态 status",
        "待完成 missing",
        "结果 results",
    ]
    summary: list[list[Any]] = [
        [
            p.teacher.teacher_id,
            p.teacher.research_group or "",
            p.status.process.hours,
            p.status.process.online_hours,
            p.status.process.practice_hours,
            p.status.status,
            "；".join(v.message_zh for v in p.status.missing),
            "、".join(f"{k}:{v}" for k, v in p.results.items()),
        ]
        for p in ordered
    ]
    if fmt == "html":
        head = f'<section class="teacher"><h1>{escape(school_id)} 校本应用考核汇总</h1>'
        head += _html_table(summary_header, summary) + "</section>"
        return _html_page(
            f"{school_id} 电子档案", [head] + [_html_section(p) for p in ordered]
        ).encode("utf-8")
    if fmt != "xlsx":
        raise NengliError(f"unknown export format {fmt!r}; use json, html or xlsx")
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {
        "教师汇总 teachers": (summary_header, summary)
    }
    for section in ("学习 learning", "证据 evidence", "评审 reviews", "结果 results"):
        rows: list[list[Any]] = []
        for p in ordered:
            rows.extend([p.teacher.teacher_id, *row] for row in _rows(p)[section][1])
        sheets[section] = (["教师 teacher", *_HEADERS[section]], rows)
    return _workbook_bytes(sheets)
