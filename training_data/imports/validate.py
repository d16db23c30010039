"""Validate one chunk of an export against its table's rules, cell by cell but vectorised.

Every problem becomes an :class:`Issue` naming the row (as the user sees it in the file), the
field, the offending value and the reason in Chinese and English — the people fixing the file
are school administrators. A row with any issue is rejected as a whole; the clean rows come back
as a frame in the province table's columns, plus ``_source``/``_row`` so later checks
(duplicates, unknown teachers) can still point at the line.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from competency_model.province import TABLE_COLUMNS
from training_data.imports import fields as f
from training_data.imports.checks import Checker, ChunkResult, event_ids

__all__ = ["Validator"]

_STAGES_TEXT = "幼儿园/小学/初中/高中/中职"
_MAX_YEARS_OF_SERVICE = 50


class Validator:
    """Validates chunks of one table against the framework, the catalog and known teachers.

    Parameters
    ----------
    framework, catalog
        What point codes and course ids must exist in.
    known_teachers
        Teacher ids that events/grades/responses may refer to; ``None`` skips that check.
    now
        Latest acceptable timestamp (later values are typos such as 2204 for 2024).
    item_bank
        Questionnaire answers are scored against it; ``None`` only checks they are numbers.
    """

    def __init__(
        self,
        framework: Framework,
        catalog: Catalog,
        known_teachers: Collection[str] | None,
        now: pd.Timestamp,
        item_bank: ItemBank | None = None,
    ) -> None:
        self.item_bank = item_bank
        self.framework = framework
        self.catalog = catalog
        self.known_teachers = known_teachers
        self.now = now
        self.point_lookup = f.point_code_parser(framework)

    def validate(
        self, table: str, cells: pd.DataFrame, rows: np.ndarray, source: str
    ) -> ChunkResult:
        """Check a chunk whose columns are canonical names; blank lines are skipped silently."""
        blank = (cells.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
        cells, rows = cells[~blank].reset_index(drop=True), rows[~blank]
        check = Checker(cells, rows, source)
        frame = getattr(self, f"_{table}")(check)
        keep = ~check.bad[frame.pop("_position").to_numpy()] if len(frame) else np.zeros(0, bool)
        accepted = frame[keep].reset_index(drop=True)
        rejected = cells[check.bad].assign(_source=source, _row=rows[check.bad])
        return ChunkResult(accepted, check.issues, rejected.reset_index(drop=True))

    def _frame(self, check: Checker, table: str, columns: dict[str, pd.Series]) -> pd.DataFrame:
        frame = pd.DataFrame({c: columns[c] for c in TABLE_COLUMNS[table]})
        frame["_source"] = check.source
        frame["_row"] = check.rows
        frame["_position"] = np.arange(len(frame))
        return frame

    def _teacher_ref(self, check: Checker, teacher: pd.Series) -> None:
        if self.known_teachers is not None:
            unknown = teacher.ne("") & ~teacher.isin(self.known_teachers)
            check.flag(
                unknown,
                "teacher_id",
                "未知教师编号，请先导入或同时导入教师名单",
                "unknown teacher_id; import the teachers file first or together",
            )

    def _teachers(self, check: Checker) -> pd.DataFrame:
        teacher, school = check.text("teacher_id"), check.text("school_id")
        stage = check.checked(
            "stage",
            f.vocabulary(check.text("stage"), f.STAGE_ALIASES),
            f"未知学段，应为{_STAGES_TEXT}",
            f"unknown stage; use {_STAGES_TEXT}",
        )
        subject = check.text("subject")
        years = f.parse_int(check.text("years_of_service"))
        years = check.checked(
            "years_of_service",
            years,
            f"教龄应为0–{_MAX_YEARS_OF_SERVICE}的整数",
            f"years_of_service must be a whole number 0–{_MAX_YEARS_OF_SERVICE}",
            ok=(years >= 0) & (years <= _MAX_YEARS_OF_SERVICE),
        )
        group = check.text("research_group", required=False)
        default_group = np.where(stage.eq("幼儿园"), "幼儿园教研组", stage + subject + "组")
        group = group.where(group.ne(""), pd.Series(default_group, index=group.index))
        return self._frame(
            check,
            "teachers",
            {
                "teacher_id": teacher,
                "school_id": school,
                "stage": stage,
                "subject": subject,
                "years_of_service": years.fillna(0).astype("int64"),
                "research_group": group,
            },
        )

    def _schools(self, check: Checker) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {
            name: check.text(name) for name in ("school_id", "region", "city", "district")
        }
        columns["urban_rural"] = check.checked(
            "urban_rural",
            f.vocabulary(check.text("urban_rural"), f.URBAN_RURAL_ALIASES),
            "城乡类型应为城区/镇区/乡村（或urban/rural）",
            "urban_rural must be urban or rural",
        )
        columns["environment"] = check.checked(
            "environment",
            f.parse_environment(check.text("environment")),
            "教学环境应为多媒体教学环境/混合式学习环境/智慧学习环境（或A/B/C）",
            "environment must be multimedia/blended/smart (or A/B/C)",
        )
        teachers = f.parse_int(check.text("n_teachers"))
        columns["n_teachers"] = (
            check.checked(
                "n_teachers",
                teachers,
                "教师数应为正整数",
                "n_teachers must be a positive whole number",
                ok=teachers >= 1,
            )
            .fillna(0)
            .astype("int64")
        )
        batch = f.parse_int(check.text("rollout_batch"))
        columns["rollout_batch"] = (
            check.checked(
                "rollout_batch",
                batch,
                "推进批次应为1、2或3",
                "rollout_batch must be 1, 2 or 3",
                ok=batch.isin([1, 2, 3]),
            )
            .fillna(0)
            .astype("int64")
        )
        points, unknown = f.parse_points(
            check.text("chosen_points", required=False).str.normalize("NFKC"), self.point_lookup
        )
        check.flag(
            unknown.notna(),
            "chosen_points",
            "选点中含有未知能力点编号",
            "chosen_points contains an unknown point code",
        )
        columns["chosen_points"] = points
        return self._frame(check, "schools", columns)

    def _grades(self, check: Checker) -> pd.DataFrame:
        teacher = check.text("teacher_id")
        self._teacher_ref(check, teacher)
        raw_point = check.text("point").str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
        raw_point = raw_point.str.lower()
        point = check.checked(
            "point",
            raw_point.map(self.point_lookup),
            "未知能力点（应为A1–A13、B1–B10、C1–C7等编号）",
            "unknown point code (use a code such as A1, B10, C7)",
        )
        grade = check.checked(
            "grade",
            f.vocabulary(check.text("grade"), f.GRADE_ALIASES),
            "考核结果应为优秀/合格/不合格",
            "grade must be 优秀/合格/不合格",
        )
        assessed = self._time(check, "assessed_at", check.text("assessed_at"))
        return self._frame(
            check,
            "grades",
            {"teacher_id": teacher, "point": point, "grade": grade, "assessed_at": assessed},
        )

    def _responses(self, check: Checker) -> pd.DataFrame:
        teacher = check.text("teacher_id")
        self._teacher_ref(check, teacher)
        question = check.text("question_id")
        text = check.text("response")
        if self.item_bank is None:
            response = f.parse_number(text)
            response = check.checked(
                "response",
                response,
                "作答应为非负数字",
                "response must be a non-negative number",
                ok=response >= 0,
            )
        else:
            response = self._scored_responses(check, question, text)
        return self._frame(
            check, "responses", {"teacher_id": teacher, "item_id": question, "response": response}
        )

    def _scored_responses(self, check: Checker, question: pd.Series, text: pd.Series) -> pd.Series:
        """Score answers against the item bank: scenario 0/1 (or the option letter chosen),
        self-rating a whole number 1..scale_max."""
        items = {item.item_id: item for item in self.item_bank.items}  # type: ignore[union-attr]
        check.flag(
            question.ne("") & ~question.isin(list(items)),
            "question_id",
            "题号不在题库中",
            "question_id is not in the item bank",
        )
        kind = question.map({k: i.kind for k, i in items.items()})
        number = f.parse_number(text)
        letter = text.str.upper().map({chr(65 + i): i for i in range(8)})
        correct = question.map({k: i.correct_option for k, i in items.items()})
        scenario = number.where(
            number.isin([0, 1]), (letter == correct).astype("float64").where(letter.notna())
        )
        scale = question.map({k: i.scale_max for k, i in items.items()}).astype("float64")
        rating = number.where((number >= 1) & (number <= scale) & (number == np.floor(number)))
        check.flag(
            kind.eq("scenario") & text.ne("") & scenario.isna(),
            "response",
            "情境题作答应为0/1或所选选项字母",
            "scenario answer must be 0/1 or the option letter",
        )
        check.flag(
            kind.eq("self_rating") & text.ne("") & rating.isna(),
            "response",
            "自评题作答应为1到量表最大值的整数",
            "self-rating must be a whole number from 1 to the scale maximum",
        )
        return scenario.where(kind.eq("scenario"), rating)

    def _time(self, check: Checker, field: str, text: pd.Series) -> pd.Series:
        parsed = f.parse_timestamp(text)
        return check.checked(
            field,
            parsed,
            "时间格式无法识别或晚于当前时间（如 2024-03-01 09:30）",
            "not a date/time, or later than now (write e.g. 2024-03-01 09:30)",
            ok=parsed <= self.now,
        )

    def _events(self, check: Checker) -> pd.DataFrame:
        teacher, item = check.text("teacher_id"), check.text("item_id")
        self._teacher_ref(check, teacher)
        check.flag(
            item.ne("") & ~item.isin(self.catalog.ids),
            "item_id",
            "课程编号不在课程目录中",
            "item_id is not in the course catalog",
        )
        if "hours" in check.cells:
            hours = f.parse_number(check.text("hours", required=False))
            check.checked(
                "hours", hours, "学时应为正数", "hours must be a positive number", ok=hours > 0
            )
        parts = []
        if "event" in check.cells:
            event = check.checked(
                "event",
                f.vocabulary(check.text("event"), f.EVENT_ALIASES),
                "未知学习行为，应为报名/学习中/完成/评分",
                "unknown event; use enrol/progress/complete/rate",
            )
            when_field = next(
                (c for c in ("timestamp", "completed_at", "enrolled_at") if c in check.cells),
                "timestamp",
            )
            when = self._time(check, when_field, check.text(when_field))
            value = self._event_values(check, event)
            parts.append((event, when, value, np.ones(len(event), dtype=bool)))
        else:
            stamps = {"enrol": "enrolled_at", "complete": "completed_at"}
            present = {kind: column for kind, column in stamps.items() if column in check.cells}
            if not present:
                check.flag(
                    np.ones(len(check.cells), bool),
                    "completed_at",
                    "缺少完成时间/报名时间（或学习行为+时间）列",
                    "needs a 完成时间/completed_at or 报名时间/enrolled_at column",
                )
            texts = {kind: check.text(column, required=False) for kind, column in present.items()}
            if texts:
                none_given = np.logical_and.reduce([t.eq("").to_numpy() for t in texts.values()])
                check.flag(
                    none_given,
                    next(iter(present.values())),
                    "必填项为空",
                    "required value is empty (no enrolment or completion time)",
                )
            for kind, column in present.items():
                when = self._time(check, column, texts[kind])
                kinds = pd.Series([kind] * len(when), index=when.index, dtype=str)
                nan = pd.Series(np.nan, index=when.index)
                parts.append((kinds, when, nan, texts[kind].ne("").to_numpy()))
        frames = []
        for event, when, value, use in parts:
            rows = self._frame(
                check,
                "events",
                {
                    "event_id": pd.Series("", index=event.index, dtype=str),
                    "teacher_id": teacher,
                    "item_id": item,
                    "event": event,
                    "value": value,
                    "timestamp": when,
                },
            )
            frames.append(rows[use])
        if not frames:
            return pd.DataFrame(columns=[*TABLE_COLUMNS["events"], "_source", "_row", "_position"])
        out = pd.concat(frames, ignore_index=True)
        ok = out["event"].notna() & out["timestamp"].notna()
        out.loc[ok, "event_id"] = event_ids(
            out.loc[ok, "teacher_id"],
            out.loc[ok, "item_id"],
            out.loc[ok, "event"],
            out.loc[ok, "timestamp"],
        )
        return out

    def _event_values(self, check: Checker, event: pd.Series) -> pd.Series:
        text = check.text("value", required=False)
        progress, rating = event.eq("progress"), event.eq("rate")
        fraction = f.parse_progress(text)
        check.flag(
            progress & (fraction.isna() | (fraction < 0) | (fraction > 1)),
            "value",
            "学习进度应为0–1或0%–100%",
            "progress must be 0–1 or 0%–100%",
        )
        stars = f.parse_number(text)
        check.flag(
            rating & ~stars.isin([1, 2, 3, 4, 5]),
            "value",
            "评分应为1–5的整数",
            "rating must be a whole number 1–5",
        )
        return fraction.where(progress, stars.where(rating))
