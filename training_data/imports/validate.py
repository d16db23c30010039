"""Validate one chunk of an export against its table's rules, cell by cell but vectorised.

Every problem becomes an :class:`Issue` naming the row (as the user sees it in the file), the
field, the offending value and the reason in Chinese and English — the people fixing the file
are school administrators. A row with any issue is rejected as a whole; the clean rows come back
as a frame in the province table's columns, plus ``_source``/``_row`` so later checks
(duplicates, unknown teachers) can still point at the line.

Columns a file does not have take the defaults of :mod:`training_data.imports.defaults`; each
use is counted in :attr:`Validator.tally` so the report can say which rows were defaulted. The
learning-event rules live in :mod:`training_data.imports.event_rules`.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from competency_model.catalog import GENERAL_SUBJECT, Catalog
from competency_model.framework import Framework
from competency_model.item_bank import ItemBank
from competency_model.province import TABLE_COLUMNS
from competency_model.vocabulary import Vocabulary, default_vocabulary
from training_data.imports import defaults as d
from training_data.imports import fields as f
from training_data.imports.checks import Checker, ChunkResult, Tally
from training_data.imports.event_rules import events_frame
from training_data.imports.options import ImportOptions

__all__ = ["Validator"]

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
    vocabulary
        Stage and subject spellings (default: the shipped national vocabulary).
    options
        Defaults for absent columns (region, export date …).
    known_schools
        School ids teachers may refer to (stored or in the batch); ``None`` skips the check.
        With ``options.missing_schools == "reject"`` an unknown school rejects the teacher row;
        with ``"infer"`` it is recorded in :attr:`unknown_schools` for the importer to infer.
    """

    def __init__(
        self,
        framework: Framework,
        catalog: Catalog,
        known_teachers: Collection[str] | None,
        now: pd.Timestamp,
        item_bank: ItemBank | None = None,
        vocabulary: Vocabulary | None = None,
        options: ImportOptions | None = None,
        known_schools: Collection[str] | None = None,
    ) -> None:
        self.item_bank = item_bank
        self.framework = framework
        self.catalog = catalog
        self.known_teachers = known_teachers
        self.known_schools = known_schools
        self.now = now
        self.point_lookup = f.point_code_parser(framework)
        self.vocabulary = vocabulary or default_vocabulary()
        self.options = options or ImportOptions()
        self.export_date = d.export_moment(self.options, now)
        self.tally = Tally()

    def validate(
        self, table: str, cells: pd.DataFrame, rows: np.ndarray, source: str
    ) -> ChunkResult:
        """Check a chunk whose columns are canonical names; blank lines are skipped silently."""
        blank = (cells.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
        cells, rows = cells[~blank].reset_index(drop=True), rows[~blank]
        check = Checker(cells, rows, source)
        frame = (
            events_frame(self, check) if table == "events" else getattr(self, f"_{table}")(check)
        )
        keep = ~check.bad[frame.pop("_position").to_numpy()] if len(frame) else np.zeros(0, bool)
        accepted = frame[keep].reset_index(drop=True)
        rejected = cells[check.bad].assign(_source=source, _row=rows[check.bad])
        return ChunkResult(accepted, check.issues, rejected.reset_index(drop=True))

    def frame(
        self,
        check: Checker,
        table: str,
        columns: dict[str, pd.Series],
        flags: dict[str, pd.Series] | None = None,
    ) -> pd.DataFrame:
        """The table's columns (plus ``flags`` such as ``assessed_at_inferred``) and positions."""
        frame = pd.DataFrame({c: columns[c] for c in TABLE_COLUMNS[table]})
        for name, values in (flags or {}).items():
            frame[name] = values.to_numpy()
        frame["_source"] = check.source
        frame["_row"] = check.rows
        frame["_position"] = np.arange(len(frame))
        return frame

    def teacher_ref(self, check: Checker, teacher: pd.Series) -> None:
        """Reject rows naming a teacher that is neither stored nor in the batch."""
        if self.known_teachers is not None:
            unknown = teacher.ne("") & ~teacher.isin(self.known_teachers)
            check.flag(
                unknown,
                "teacher_id",
                "未知教师编号（不存在或不在本账号范围内），请先导入或同时导入教师名单",
                "unknown teacher_id (not stored, or outside this key's scope); import the "
                "teachers file first or together",
            )

    def _school_ref(self, check: Checker, school: pd.Series) -> None:
        if self.known_schools is None or self.options.missing_schools != "reject":
            return
        check.flag(
            school.ne("") & ~school.isin(self.known_schools),
            "school_id",
            "未知学校编号（不存在或不在本账号范围内），请先导入该学校",
            "unknown school_id (not stored, or outside this key's scope); import the school "
            "first or together",
        )

    def _teachers(self, check: Checker) -> pd.DataFrame:
        teacher, school = check.text("teacher_id"), check.text("school_id")
        self._school_ref(check, school)
        stage_text = check.text("stage")
        stage = check.checked(
            "stage",
            d.map_unique(stage_text, self.vocabulary.stage),
            f"未知学段，应为{'/'.join(self.vocabulary.stages)}",
            f"unknown stage; use {'/'.join(self.vocabulary.stages)}",
        )
        if check.has("subject"):
            subject = d.subjects(self.vocabulary, self.tally, check, stage)
        else:
            subject = pd.Series(GENERAL_SUBJECT, index=teacher.index, dtype=str)
            self.tally.derive(
                check.source, "teachers", "subject", "default", GENERAL_SUBJECT, len(subject)
            )
        if check.has("years_of_service"):
            text = check.text("years_of_service", required=False)
            years = f.parse_int(text)
            years = check.checked(
                "years_of_service",
                years,
                f"教龄应为0–{_MAX_YEARS_OF_SERVICE}的整数",
                f"years_of_service must be a whole number 0–{_MAX_YEARS_OF_SERVICE}",
                ok=(years >= 0) & (years <= _MAX_YEARS_OF_SERVICE),
            )
            self.tally.derive(
                check.source, "teachers", "years_of_service", "default", "0", int(text.eq("").sum())
            )
        else:
            years = pd.Series(0, index=teacher.index, dtype="float64")
            self.tally.derive(
                check.source, "teachers", "years_of_service", "default", "0", len(years)
            )
        group = check.text("research_group", required=False)
        default_group = np.where(
            stage.eq("幼儿园"), "幼儿园教研组", stage.fillna("").astype(str) + subject + "组"
        )
        self.tally.derive(
            check.source,
            "teachers",
            "research_group",
            "derived",
            "{学段}{学科}组",
            int(group.eq("").sum()),
        )
        group = group.where(group.ne(""), pd.Series(default_group, index=group.index))
        return self.frame(
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
        columns: dict[str, pd.Series] = {"school_id": check.text("school_id")}
        for name in ("region", "city", "district"):
            columns[name] = d.place(self.options, self.tally, check, name)
        columns["urban_rural"] = d.optional(
            self.tally,
            check,
            "urban_rural",
            f.vocabulary(check.text("urban_rural", required=False), f.URBAN_RURAL_ALIASES),
            d.UNKNOWN_URBAN_RURAL,
            "城乡类型应为城区/镇区/乡村（或urban/rural）",
            "urban_rural must be urban or rural",
        )
        columns["environment"] = d.optional(
            self.tally,
            check,
            "environment",
            f.parse_environment(check.text("environment", required=False)),
            d.DEFAULT_ENVIRONMENT,
            "教学环境应为多媒体教学环境/混合学习环境/智慧学习环境（或A/B/C）",
            "environment must be multimedia/blended/smart (or A/B/C)",
        )
        teachers = f.parse_int(check.text("n_teachers", required=False))
        columns["n_teachers"] = d.optional(
            self.tally,
            check,
            "n_teachers",
            teachers.where(teachers >= 1),
            0,
            "教师数应为正整数",
            "n_teachers must be a positive whole number",
            how="derived",
            label="counted from the teachers of the batch",
        ).astype("int64")
        batch = f.parse_int(check.text("rollout_batch", required=False))
        columns["rollout_batch"] = d.optional(
            self.tally,
            check,
            "rollout_batch",
            batch.where(batch.isin([1, 2, 3])),
            d.UNKNOWN_BATCH,
            "推进批次应为1、2或3",
            "rollout_batch must be 1, 2 or 3",
        ).astype("int64")
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
        return self.frame(check, "schools", columns)

    def _grades(self, check: Checker) -> pd.DataFrame:
        teacher = check.text("teacher_id")
        self.teacher_ref(check, teacher)
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
        text = check.text("assessed_at", required=False)
        inferred = text.eq("")
        assessed = self.time(check, "assessed_at", text).where(~inferred, self.export_date)
        self.tally.derive(
            check.source,
            "grades",
            "assessed_at",
            "inferred",
            str(self.export_date.date()),
            int(inferred.sum()),
        )
        return self.frame(
            check,
            "grades",
            {"teacher_id": teacher, "point": point, "grade": grade, "assessed_at": assessed},
            flags={d.ASSESSED_AT_INFERRED: inferred},
        )

    def _responses(self, check: Checker) -> pd.DataFrame:
        teacher = check.text("teacher_id")
        self.teacher_ref(check, teacher)
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
        return self.frame(
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

    def time(self, check: Checker, field: str, text: pd.Series) -> pd.Series:
        """Parse a time column; unreadable or future values are flagged."""
        parsed = f.parse_timestamp(text)
        return check.checked(
            field,
            parsed,
            "时间格式无法识别或晚于当前时间（如 2024-03-01 09:30）",
            "not a date/time, or later than now (write e.g. 2024-03-01 09:30)",
            ok=parsed <= self.now,
        )
