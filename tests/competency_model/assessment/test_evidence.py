"""Evidence metadata validation: one test per rule, against the shipped framework."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from competency_model import default_framework, load_framework
from competency_model.assessment import (
    EvidenceItem,
    check_item,
    check_submission,
    is_recording_only,
)

FW = default_framework()


def item(**overrides: Any) -> EvidenceItem:
    base: dict[str, Any] = {
        "artifact": "教学设计",
        "title": "分数的初步认识 教学设计",
        "media": "document",
        "link": "https://platform.example.cn/files/123",
        "lesson": "分数的初步认识",
        "class_name": "三年级2班",
    }
    base.update(overrides)
    return EvidenceItem(**base)


def clip(minutes: float | None = 8.0, **overrides: Any) -> EvidenceItem:
    fields: dict[str, Any] = {
        "artifact": "课堂实录片段",
        "title": "讲授片段",
        "media": "video",
        "duration_minutes": minutes,
    }
    return item(**{**fields, **overrides})


def a6_submission() -> list[EvidenceItem]:
    return [item(), clip(), item(artifact="教学反思", title="课后反思")]


def rules(violations: list[Any]) -> list[str]:
    return [v.rule for v in violations]


def test_valid_item_has_no_violation() -> None:
    assert check_item("A6", item(), FW) == []


def test_complete_submission_is_accepted() -> None:
    report = check_submission("A6", a6_submission(), FW)
    assert report.accepted and report.missing_required == [] and report.item_violations == {}


def test_unknown_point_is_rejected() -> None:
    assert rules(check_item("Z9", item(), FW)) == ["unknown_point"]
    report = check_submission("Z9", [item()], FW)
    assert not report.accepted and rules(report.violations) == ["unknown_point"]


def test_artifact_not_asked_by_point_is_rejected() -> None:
    violations = check_item("A1", item(artifact="课堂实录片段"), FW)
    assert rules(violations) == ["unknown_artifact"]
    assert "学情分析方案" in violations[0].message_zh


def test_item_without_link_or_file_is_rejected() -> None:
    assert rules(check_item("A6", item(link=None), FW)) == ["missing_reference"]


def test_file_reference_alone_is_enough() -> None:
    assert check_item("A6", item(link=None, file_ref="oss://bucket/abc.docx"), FW) == []


@pytest.mark.parametrize(
    "link", ["ftp://host/file", "data:video/mp4;base64,AAAA", "javascript:alert(1)", "not a url"]
)
def test_non_http_link_is_rejected(link: str) -> None:
    assert rules(check_item("A6", item(link=link), FW)) == ["invalid_link"]


@pytest.mark.parametrize("minutes", [10.5, 11, 45])
def test_clip_over_ten_minutes_is_rejected(minutes: float) -> None:
    violations = check_item("A6", clip(minutes), FW)
    assert rules(violations) == ["video_too_long"]
    assert violations[0].expected == 10 and "10" in violations[0].message_zh


@pytest.mark.parametrize("minutes", [0.5, 9.99, 10])
def test_clip_up_to_ten_minutes_is_accepted(minutes: float) -> None:
    assert check_item("A6", clip(minutes), FW) == []


def test_clip_without_duration_is_rejected() -> None:
    assert rules(check_item("A6", clip(None), FW)) == ["duration_missing"]


def test_recording_submitted_as_document_is_rejected() -> None:
    violations = check_item("A6", clip(None, media="document"), FW)
    assert rules(violations) == ["media_not_video"]


def test_artifact_offering_screenshots_may_be_an_image() -> None:
    screenshots = item(artifact="活动实录片段或平台截图", title="截图", media="image")
    assert check_item("B6", screenshots, FW) == []


def test_limit_comes_from_the_framework(national_doc: dict[str, Any], tmp_path: Any) -> None:
    import json

    for point in national_doc["points"]:
        for artifact in point["artifacts"]:
            if artifact.get("max_minutes"):
                artifact["max_minutes"] = 5
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(national_doc, ensure_ascii=False), encoding="utf-8")
    strict = load_framework(path)
    assert rules(check_item("A6", clip(8), strict)) == ["video_too_long"]


@pytest.mark.parametrize("missing", [["lesson"], ["class_name"], ["lesson", "class_name"]])
def test_missing_lesson_or_class_is_rejected(missing: list[str]) -> None:
    violations = check_item("A6", item(**dict.fromkeys(missing, "")), FW)
    assert rules(violations) == ["missing_context"] and violations[0].actual == missing


def test_missing_required_item_rejects_the_submission() -> None:
    report = check_submission("A6", a6_submission()[:2], FW)
    assert not report.accepted
    assert report.missing_required == ["教学反思"]
    assert rules(report.violations) == ["missing_required"]
    assert "教学反思" in report.violations[0].message_zh


def test_optional_item_may_be_left_out() -> None:
    b2 = [
        item(artifact="微课程设计方案", title="方案"),
        item(artifact="微课视频", title="微课", media="video", duration_minutes=7),
    ]
    assert check_submission("B2", b2, FW).accepted


def test_duplicate_artifact_is_rejected() -> None:
    report = check_submission("A6", [*a6_submission(), item(title="第二份")], FW)
    assert not report.accepted and rules(report.item_violations[3]) == ["duplicate_artifact"]


def test_bad_items_are_reported_by_position() -> None:
    items = a6_submission()
    items[1] = clip(15)
    report = check_submission("A6", items, FW)
    assert list(report.item_violations) == [1]


@pytest.mark.parametrize(
    "field",
    [{"video_bytes": "AAAA"}, {"content": "base64"}, {"duration_minutes": -1}, {"title": ""}],
)
def test_file_content_and_bad_fields_are_refused_at_the_boundary(field: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        item(**field)


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        ("A6", "课堂实录片段", True),
        ("B2", "微课视频", True),
        ("B6", "活动实录片段或平台截图", False),
        ("C3", "实施证据（实录/截图）", False),
        ("A6", "教学设计", False),
    ],
)
def test_recording_only_reads_the_artifact_name(code: str, name: str, expected: bool) -> None:
    artifact = next(a for a in FW.point(code).artifacts if a.name_zh == name)
    assert is_recording_only(artifact) is expected
