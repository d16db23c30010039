"""Evidence metadata for the school-based assessment (校本应用考核) and its validation.

A teacher (or a platform on their behalf) submits, for one target point, one record per evidence
item the framework asks for (教学设计, 课堂实录片段 ≤ 10 min, 教学反思, …). nengli stores only
*metadata* — the artifact type, a title, a link or file reference, the clip duration, the lesson
and class it comes from — never the video or document itself: the files stay on the platform
that hosts them, and a database of references leaks no classroom footage.

Validation follows the framework, not constants, so a province that loads its own framework
(other artifacts, other clip limits) gets its own rules. Every problem is returned as a
:class:`~competency_model.plan.Violation` with a stable ``rule`` name and a message in Chinese and
English, so a platform can show teachers exactly what to fix.

Rules (``Violation.rule``)
--------------------------
``unknown_point``            the point code is not in the framework
``unknown_artifact``         the artifact type is not one the point asks for
``duplicate_artifact``       the same artifact type appears twice in one submission
``missing_reference``        neither a link nor a file reference is given
``invalid_link``             the link is not an http(s) URL (``data:`` URLs would embed the file)
``media_not_video``          a recording-only artifact (课堂实录片段, 微课视频) is not marked as video
``duration_missing``         a video without its duration
``video_too_long``           a video longer than the artifact's ``max_minutes``
``missing_context``          the lesson or class the evidence comes from is missing
``missing_required``         a required artifact of the point is not in the submission

Example
-------
>>> from competency_model import default_framework
>>> item = EvidenceItem(artifact="课堂实录片段", title="分数导入", media="video",
...     link="https://example.org/v/1", duration_minutes=12, lesson="分数的初步认识", class_name="三(2)班")
>>> [v.rule for v in check_item("A6", item, default_framework())]
['video_too_long']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from competency_model.framework import Artifact, Framework, Point
from competency_model.plan import Violation

__all__ = [
    "MEDIA",
    "EvidenceItem",
    "EvidenceRecord",
    "EvidenceReport",
    "check_item",
    "check_submission",
    "is_recording_only",
]

#: What kind of file an evidence item is; only ``video`` and ``audio`` carry a duration rule.
MEDIA: tuple[str, ...] = ("document", "video", "audio", "image", "slides", "link", "other")
_TIMED_MEDIA = ("video", "audio")


class EvidenceItem(BaseModel):
    """Metadata of one evidence item (never the file itself; unknown fields are refused).

    Attributes
    ----------
    artifact
        The framework's artifact name (``Artifact.name_zh``), e.g. ``课堂实录片段``.
    title
        The teacher's title for the item.
    media
        One of :data:`MEDIA`.
    link, file_ref
        Where the file lives: an http(s) URL, or a platform file reference (at least one).
    duration_minutes
        Length of a video/audio clip, in minutes.
    lesson, class_name
        The lesson (课题) and the class (班级) the evidence comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    artifact: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=200)
    media: Literal["document", "video", "audio", "image", "slides", "link", "other"] = "document"
    link: str | None = Field(default=None, max_length=2048)
    file_ref: str | None = Field(default=None, max_length=512)
    duration_minutes: float | None = Field(default=None, gt=0, le=600)
    lesson: str | None = Field(default=None, max_length=200)
    class_name: str | None = Field(default=None, max_length=100)

    @field_validator("link", "file_ref", "lesson", "class_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        # An empty string from a form field means "not given", not "given as empty".
        return value or None


class EvidenceReport(BaseModel):
    """Outcome of checking one point's submission.

    ``accepted`` is true only when no item was rejected and no required artifact is missing.
    ``item_violations`` maps the item's position in the submission to its violations.
    """

    model_config = ConfigDict(extra="forbid")

    point: str
    accepted: bool
    item_violations: dict[int, list[Violation]] = Field(default_factory=dict)
    missing_required: list[str] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)


def is_recording_only(artifact: Artifact) -> bool:
    """True when the artifact can only be a recording (课堂实录片段, 微课视频).

    The framework schema has no media field, so this reads the artifact name: it names a
    recording (实录 / 视频) and offers no alternative (no 或 / ``/``, as in 实录片段或平台截图).
    """
    name = artifact.name_zh
    names_recording = "实录" in name or "视频" in name
    offers_alternative = "或" in name or "/" in name
    return names_recording and not offers_alternative


def _v(rule: str, expected: object, actual: object, zh: str, en: str, subject: str) -> Violation:
    return Violation(
        rule=rule, expected=expected, actual=actual, message_zh=zh, message_en=en, subject=subject
    )


def _artifact(point: Point, name: str) -> Artifact | None:
    return next((a for a in point.artifacts if a.name_zh == name), None)


def _check_reference(item: EvidenceItem, subject: str) -> list[Violation]:
    if item.link is None and item.file_ref is None:
        return [
            _v(
                "missing_reference",
                "link or file_ref",
                None,
                "请提供证据的链接或文件编号（不上传文件本身）",
                "give a link or a file reference for the item (the file itself is never uploaded)",
                subject,
            )
        ]
    if item.link is not None:
        parts = urlsplit(item.link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return [
                _v(
                    "invalid_link",
                    "http(s) URL",
                    item.link[:80],
                    f"链接 {item.link[:80]!r} 不是 http(s) 地址",
                    f"link {item.link[:80]!r} is not an http(s) URL; give the address where the "
                    "file is hosted",
                    subject,
                )
            ]
    return []


def _check_duration(item: EvidenceItem, artifact: Artifact, subject: str) -> list[Violation]:
    out: list[Violation] = []
    if is_recording_only(artifact) and item.media not in _TIMED_MEDIA:
        out.append(
            _v(
                "media_not_video",
                "video",
                item.media,
                f"“{artifact.name_zh}”须为视频，当前为 {item.media}",
                f"{artifact.name_en!r} must be a video; media is {item.media!r}",
                subject,
            )
        )
    if item.media not in _TIMED_MEDIA:
        return out
    if item.duration_minutes is None:
        out.append(
            _v(
                "duration_missing",
                "duration_minutes",
                None,
                "视频证据须填写时长（分钟）",
                "a video item needs duration_minutes",
                subject,
            )
        )
    elif artifact.max_minutes is not None and item.duration_minutes > artifact.max_minutes:
        out.append(
            _v(
                "video_too_long",
                artifact.max_minutes,
                item.duration_minutes,
                f"“{artifact.name_zh}”时长 {item.duration_minutes:g} 分钟，超过 "
                f"{artifact.max_minutes} 分钟上限，请剪辑后提交",
                f"{artifact.name_en!r} lasts {item.duration_minutes:g} min, over the "
                f"{artifact.max_minutes}-minute limit; cut the clip and resubmit",
                subject,
            )
        )
    return out


def check_item(point_code: str, item: EvidenceItem, framework: Framework) -> list[Violation]:
    """Every violation of one evidence item for ``point_code`` (empty list = valid).

    Parameters
    ----------
    point_code
        The target point the item is evidence for.
    item
        The item's metadata.
    framework
        The deployment's framework (artifacts and clip limits come from it).
    """
    subject = f"{point_code}/{item.artifact}"
    if point_code not in framework.codes:
        return [
            _v(
                "unknown_point",
                f"a code of framework {framework.name}",
                point_code,
                f"未知的能力点 {point_code}",
                f"unknown competency point {point_code!r}",
                subject,
            )
        ]
    point = framework.point(point_code)
    artifact = _artifact(point, item.artifact)
    if artifact is None:
        names = [a.name_zh for a in point.artifacts]
        return [
            _v(
                "unknown_artifact",
                names,
                item.artifact,
                f"{point_code} 不要求“{item.artifact}”，应为：{'、'.join(names)}",
                f"{point_code} does not ask for {item.artifact!r}; its artifacts are "
                f"{', '.join(names)}",
                subject,
            )
        ]
    out = _check_reference(item, subject) + _check_duration(item, artifact, subject)
    missing = [f for f in ("lesson", "class_name") if getattr(item, f) is None]
    if missing:
        out.append(
            _v(
                "missing_context",
                ["lesson", "class_name"],
                missing,
                "请填写证据来自的课题和班级",
                "give the lesson and the class the evidence comes from "
                f"(missing: {', '.join(missing)})",
                subject,
            )
        )
    return out


def check_submission(
    point_code: str, items: Sequence[EvidenceItem], framework: Framework
) -> EvidenceReport:
    """Check a point's whole submission: each item, duplicates, and missing required artifacts.

    A submission is accepted only when it is complete: the school team rates a point on all its
    evidence, and the rating rule fails a point whose required item is missing, so an
    incomplete package is turned back with the missing names instead of being rated 不合格.
    """
    item_violations: dict[int, list[Violation]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        found = check_item(point_code, item, framework)
        if item.artifact in seen:
            found.append(
                _v(
                    "duplicate_artifact",
                    "each artifact once",
                    item.artifact,
                    f"“{item.artifact}”重复提交",
                    f"{item.artifact!r} is submitted twice",
                    f"{point_code}/{item.artifact}",
                )
            )
        seen.add(item.artifact)
        if found:
            item_violations[index] = found
    missing: list[str] = []
    violations: list[Violation] = []
    if point_code not in framework.codes:
        violations.append(
            _v(
                "unknown_point",
                f"a code of framework {framework.name}",
                point_code,
                f"未知的能力点 {point_code}",
                f"unknown competency point {point_code!r}",
                point_code,
            )
        )
    else:
        missing = [
            a.name_zh
            for a in framework.point(point_code).artifacts
            if a.required and a.name_zh not in seen
        ]
        if missing:
            violations.append(
                _v(
                    "missing_required",
                    missing,
                    sorted(seen),
                    f"{point_code} 缺少必交证据：{'、'.join(missing)}",
                    f"{point_code} lacks required evidence: {', '.join(missing)}",
                    point_code,
                )
            )
    return EvidenceReport(
        point=point_code,
        accepted=not item_violations and not violations,
        item_violations=item_violations,
        missing_required=missing,
        violations=violations,
    )


class EvidenceRecord(EvidenceItem):
    """A stored, accepted evidence item: the metadata plus who, which point and when.

    ``submission_id`` groups the items submitted together for one point; a resubmission (after
    a 不合格, say) is a new submission and the latest one is the point's current evidence.
    """

    evidence_id: str = Field(min_length=1, max_length=64)
    submission_id: str = Field(min_length=1, max_length=64)
    teacher_id: str = Field(min_length=1, max_length=64)
    point: str = Field(min_length=1, max_length=32)
    submitted_at: datetime
