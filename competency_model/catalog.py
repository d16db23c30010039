"""The course and practice-task catalog: what a teacher can study or do for each point.

A :class:`CatalogItem` is either an online course (``online_video``, ``live``; counted as online
学时) or a practice task (``practice``, ``school_research``; counted as practice 学时 and
producing evidence artifacts for the school's assessment). Every item says which points it
develops and with what weight, so diagnosis can credit completions and ranking can match gaps.

The shipped catalog (``competency_model/data/catalog.json``) is generated deterministically by
:mod:`training_data.catalog_builder`; a province can load its own file instead. Either way
:func:`load_catalog` validates every row against the framework, because a course pointing at a
point code that does not exist would silently never be recommended.

Example
-------
>>> catalog = load_catalog()
>>> len(catalog.courses) >= 300 and len(catalog.tasks) >= 90
True
>>> catalog.get("CRS-0001").kind in ONLINE_KINDS
True
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from competency_model.errors import CatalogError, NotFoundError, first_validation_problem
from competency_model.framework import ENVIRONMENTS, Framework, default_framework

__all__ = [
    "CATALOG_PATH",
    "GENERAL_SUBJECT",
    "BASE_PRACTICE_KINDS",
    "KINDS",
    "Kind",
    "LEVELS",
    "ONLINE_KINDS",
    "PRACTICE_KINDS",
    "RECOMMENDABLE_KINDS",
    "REGIONAL_PRACTICE_KINDS",
    "STAGES",
    "SUBJECTS_BY_STAGE",
    "Catalog",
    "CatalogItem",
    "default_catalog",
    "environment_rank",
    "load_catalog",
]

CATALOG_PATH = Path(__file__).parent / "data" / "catalog.json"
ONLINE_KINDS: tuple[str, ...] = ("online_video", "live")
#: Practice kinds every region counts: classroom practice tasks and 校本研修.
BASE_PRACTICE_KINDS: tuple[str, ...] = ("practice", "school_research")
#: Practice kinds that only some regions count (their policy lists them in ``practice_kinds``):
#: a teacher's own online resources and online teaching (Jiangsu §三(六)), 集中培训 and
#: 应用考核 (Chongqing §一(一)). A school records them as catalog items of these kinds.
REGIONAL_PRACTICE_KINDS: tuple[str, ...] = (
    "online_production",
    "centralized_training",
    "application_assessment",
)
PRACTICE_KINDS: tuple[str, ...] = BASE_PRACTICE_KINDS + REGIONAL_PRACTICE_KINDS
KINDS: tuple[str, ...] = ONLINE_KINDS + PRACTICE_KINDS
#: What a list of recommendations holds: courses (the online kinds) or practice tasks (the
#: practice kinds), as the policy classifies them. Defined once here because the ranking, the
#: service schemas and the CLI all ask for one or the other.
Kind = Literal["course", "task"]
LEVELS: tuple[str, ...] = ("入门", "进阶", "高阶")
STAGES: tuple[str, ...] = ("幼儿园", "小学", "初中", "高中", "中职")
#: Subject value meaning "suitable for any subject" (学科通用).
GENERAL_SUBJECT = "通用"
#: Subjects 初中 and 高中 share; they differ only in the civics and IT course names.
_SECONDARY_SUBJECTS = ("语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理")
#: Subjects taught per stage (kindergarten teaches by domain, so it has only 通用 here).
SUBJECTS_BY_STAGE: dict[str, tuple[str, ...]] = {
    "幼儿园": (GENERAL_SUBJECT,),
    "小学": ("语文", "数学", "英语", "科学", "道德与法治", "音乐", "美术", "体育", "信息科技"),
    "初中": (*_SECONDARY_SUBJECTS, "道德与法治", "信息科技"),
    "高中": (*_SECONDARY_SUBJECTS, "思想政治", "信息技术"),
    "中职": ("语文", "数学", "英语", "计算机应用", "机电技术", "护理"),
}
_ID_PREFIX = dict.fromkeys(ONLINE_KINDS, "CRS-") | dict.fromkeys(PRACTICE_KINDS, "TSK-")
#: Kinds a recommendation list may hold. The regional practice kinds are activities a school
#: records (集中培训 it organises, 应用考核 it holds, a teacher's online teaching it attests):
#: they count towards the hour rules and plans, but are not catalogue choices to suggest, and
#: the simulator's teachers do not pick them.
RECOMMENDABLE_KINDS: tuple[str, ...] = ONLINE_KINDS + BASE_PRACTICE_KINDS
_WEIGHT_TOLERANCE = 1e-6


def environment_rank(environment: str) -> int:
    """Position of ``environment`` in A ⊂ A+B ⊂ A+B+C (0 = multimedia, 2 = smart)."""
    return ENVIRONMENTS.index(environment)


class CatalogItem(BaseModel):
    """One course or practice task.

    Attributes
    ----------
    item_id
        ``CRS-0001`` for online courses, ``TSK-0001`` for practice tasks.
    points
        Point code → weight (> 0, summing to 1): how much of the item develops each point.
    hours
        学时 credited on completion.
    environment
        The least-equipped environment the item can be done in; must be at least as rich as
        every point it develops (a C point needs a smart environment).
    artifacts
        Evidence a practice task produces (教学设计, 课堂实录片段, …); empty for courses.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    title_zh: str
    points: dict[str, float]
    hours: float
    kind: Literal[
        "online_video",
        "live",
        "practice",
        "school_research",
        "online_production",
        "centralized_training",
        "application_assessment",
    ]
    stages: list[str]
    subjects: list[str]
    environment: Literal["multimedia", "blended", "smart"]
    level: Literal["入门", "进阶", "高阶"]
    artifacts: list[str] = []

    @field_validator("title_zh")
    @classmethod
    def _title_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title_zh is empty; give the course its Chinese title")
        return value

    @field_validator("points")
    @classmethod
    def _weights_sum_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("points is empty; an item must develop at least one point")
        for code, weight in value.items():
            if not (math.isfinite(weight) and weight > 0):
                raise ValueError(f"weight of {code!r} is {weight}; weights must be > 0")
        total = sum(value.values())
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise ValueError(f"weights sum to {total:g}, not 1; rescale them")
        return value

    @field_validator("hours")
    @classmethod
    def _hours_positive(cls, value: float) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"hours is {value}; 学时 must be a positive number")
        return value

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("stages is empty; list at least one of " + "/".join(STAGES))
        unknown = [s for s in value if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; use " + "/".join(STAGES))
        return value

    @field_validator("subjects")
    @classmethod
    def _subjects_present(cls, value: list[str]) -> list[str]:
        if not value or any(not s.strip() for s in value):
            raise ValueError(f"subjects {value!r} must be non-empty names (or {GENERAL_SUBJECT})")
        return value

    @property
    def is_online(self) -> bool:
        """Whether completing the item earns online (not practice) 学时."""
        return self.kind in ONLINE_KINDS

    @property
    def primary_point(self) -> str:
        """The point with the largest weight (ties broken by listing order)."""
        return max(self.points, key=lambda code: self.points[code])

    def fits(self, stage: str, subject: str, school_environment: str) -> bool:
        """Whether a teacher of ``stage``/``subject`` in ``school_environment`` can take it."""
        subject_ok = GENERAL_SUBJECT in self.subjects or subject in self.subjects
        return (
            stage in self.stages
            and subject_ok
            and environment_rank(self.environment) <= environment_rank(school_environment)
        )


class Catalog:
    """An immutable, validated collection of catalog items, indexed by id.

    Use :func:`load_catalog` to build one from a file; the constructor only checks id
    uniqueness so that tests can assemble small catalogs by hand.
    """

    def __init__(self, items: Iterable[CatalogItem], name: str = "", version: str = "") -> None:
        self._items: tuple[CatalogItem, ...] = tuple(items)
        self.name = name
        self.version = version
        self._by_id: dict[str, CatalogItem] = {}
        for row, item in enumerate(self._items, start=1):
            if item.item_id in self._by_id:
                raise CatalogError(
                    f"catalog row {row} (item {item.item_id}) field 'item_id': duplicate id; "
                    "every item needs its own id",
                    details={"row": row, "item_id": item.item_id, "field": "item_id"},
                )
            self._by_id[item.item_id] = item

    @property
    def items(self) -> tuple[CatalogItem, ...]:
        """All items in file order."""
        return self._items

    @property
    def courses(self) -> list[CatalogItem]:
        """Online items (``online_video``, ``live``)."""
        return [item for item in self._items if item.kind in ONLINE_KINDS]

    @property
    def tasks(self) -> list[CatalogItem]:
        """Practice items (``practice``, ``school_research``)."""
        return [item for item in self._items if item.kind in PRACTICE_KINDS]

    @property
    def ids(self) -> list[str]:
        """Item ids in file order."""
        return [item.item_id for item in self._items]

    def get(self, item_id: str) -> CatalogItem:
        """Return the item with ``item_id``; raise :class:`NotFoundError` if there is none."""
        try:
            return self._by_id[item_id]
        except KeyError:
            raise NotFoundError(
                f"catalog has no item {item_id!r}; ids look like CRS-0001 or TSK-0001",
                details={"item_id": item_id},
            ) from None

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[CatalogItem]:
        return iter(self._items)

    def for_points(self, codes: Iterable[str]) -> list[CatalogItem]:
        """Items that develop at least one of ``codes``."""
        wanted = set(codes)
        return [item for item in self._items if wanted.intersection(item.points)]

    def to_frame(self) -> pd.DataFrame:
        """One row per item; list fields ``;``-joined, weights as ``A1:0.7;A12:0.3``."""
        rows = [
            {
                "item_id": item.item_id,
                "title_zh": item.title_zh,
                "kind": item.kind,
                "hours": item.hours,
                "environment": item.environment,
                "level": item.level,
                "primary_point": item.primary_point,
                "points": ";".join(f"{c}:{w:g}" for c, w in item.points.items()),
                "stages": ";".join(item.stages),
                "subjects": ";".join(item.subjects),
                "artifacts": ";".join(item.artifacts),
                "is_online": item.is_online,
            }
            for item in self._items
        ]
        return pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))

    def point_weight_matrix(self, codes: Sequence[str]) -> NDArray[np.float64]:
        """Items × points weight matrix in item order and ``codes`` order.

        Weights on codes outside ``codes`` are dropped (rows may then sum to less than 1).
        """
        column = {code: j for j, code in enumerate(codes)}
        matrix = np.zeros((len(self._items), len(codes)), dtype=np.float64)
        for i, item in enumerate(self._items):
            for code, weight in item.points.items():
                if code in column:
                    matrix[i, column[code]] = weight
        return matrix


_FRAME_COLUMNS = (
    "item_id",
    "title_zh",
    "kind",
    "hours",
    "environment",
    "level",
    "primary_point",
    "points",
    "stages",
    "subjects",
    "artifacts",
    "is_online",
)


def _row_error(row: int, item_id: str, field: str, reason: str) -> CatalogError:
    return CatalogError(
        f"catalog row {row} (item {item_id or '?'}) field {field!r}: {reason}",
        details={"row": row, "item_id": item_id, "field": field},
    )


def _validate_item(raw: Mapping[str, Any], row: int, framework: Framework) -> CatalogItem:
    item_id = str(raw.get("item_id", ""))
    try:
        item = CatalogItem.model_validate(raw)
    except ValidationError as error:
        field, message, _ = first_validation_problem(error)
        raise _row_error(row, item_id, field or "?", message) from error
    prefix = _ID_PREFIX[item.kind]
    if not item.item_id.startswith(prefix):
        raise _row_error(
            row, item_id, "item_id", f"a {item.kind} item's id must start with {prefix}"
        )
    known = set(framework.codes)
    for code in item.points:
        if code not in known:
            raise _row_error(
                row,
                item_id,
                "points",
                f"unknown point code {code!r}; the framework has "
                f"{framework.codes[0]}…{framework.codes[-1]}",
            )
    needed = max(item.points, key=lambda c: environment_rank(framework.point(c).environment))
    needed_env = framework.point(needed).environment
    if environment_rank(item.environment) < environment_rank(needed_env):
        raise _row_error(
            row,
            item_id,
            "environment",
            f"{item.environment!r} is poorer than point {needed} needs "
            f"({needed_env!r}); set environment to {needed_env!r} or richer",
        )
    if item.kind in PRACTICE_KINDS and not item.artifacts:
        raise _row_error(
            row,
            item_id,
            "artifacts",
            "a practice task must list the evidence artifacts it produces",
        )
    return item


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(";") if part.strip()]


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    """Read the CSV catalog layout (list fields ``;``-joined, points as ``A1:0.7;B2:0.3``)."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            raw: dict[str, Any] = dict(record)
            try:
                raw["points"] = {
                    code.strip(): float(weight)
                    for code, weight in (p.split(":") for p in _split(record.get("points", "")))
                }
            except ValueError as error:
                raise _row_error(
                    number,
                    str(record.get("item_id", "")),
                    "points",
                    "write weights as A1:0.7;A12:0.3",
                ) from error
            for key in ("stages", "subjects", "artifacts"):
                raw[key] = _split(record.get(key, ""))
            for key in ("primary_point", "is_online"):
                raw.pop(key, None)
            rows.append(raw)
    return rows


def load_catalog(
    path: str | os.PathLike[str] | None = None, framework: Framework | None = None
) -> Catalog:
    """Load and validate a catalog file (``.json`` as shipped, or ``.csv``).

    Parameters
    ----------
    path
        ``None`` loads the shipped sample catalog.
    framework
        The framework the point codes and environments are checked against (default: the
        shipped national framework).

    Raises
    ------
    CatalogError
        Naming the row number, item id and field of the first invalid row.
    """
    framework = framework or default_framework()
    source = Path(path) if path is not None else CATALOG_PATH
    if not source.is_file():
        raise CatalogError(f"catalog file {source} does not exist")
    name, version = source.stem, ""
    if source.suffix.lower() == ".csv":
        raw_rows = _csv_rows(source)
        first_row = 2
    else:
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise CatalogError(f"catalog file {source} is not valid JSON: {error}") from error
        if isinstance(data, dict):
            raw_rows = data.get("items", [])
            name, version = str(data.get("name", name)), str(data.get("version", ""))
        else:
            raw_rows = data
        first_row = 1
    items = [_validate_item(raw, row, framework) for row, raw in enumerate(raw_rows, first_row)]
    return Catalog(items, name=name, version=version)


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalog validated against the national framework (cached)."""
    return load_catalog()
