"""What the recommender knows about items, points and teachers, and the signals computed from it.

Everything the ranker sees is a *signal*: a number per teacher × item that a person could explain.
This module holds the array tables the signals are computed from (so a model directory needs no
catalog file or database at serving time) and the signal functions themselves:

- ``expected_gain``: Σ over the item's points of weight × (1 − mastery_probability) × feasibility,
  where feasibility is 0 for a point the school's environment cannot host and otherwise the
  weakest mastery among the point's prerequisites (a course on B3 helps little before A1 is in
  place);
- ``stage_fit``, ``subject_fit``: the item is made for the teacher's 学段 / 学科 (or 通用);
- ``chosen_fit``: share of the item's weight on points the school chose (整校推进 选点);
- ``group_takers``, ``school_takers``: how many colleagues in the same 教研组 / school took it;
- ``popularity``: how many teachers took it at all;
- ``group_completers``, ``school_completers``: how many colleagues *completed* it (what the
  strong where-she-works baselines count), ``group_share`` / ``school_share`` the same over the
  number of colleagues, ``group_rank`` / ``school_rank`` its percentile among the catalog in
  that count (1 = most completed);
- ``recent_popularity``: completions province-wide weighted by 0.5^(age / 30 days) at the end of
  the training data (what is popular *lately*);
- ``completion_rate``: (completions + 1) / (takers + 2) province-wide — items people finish;
- ``school_popularity_gap``: school completers over the teacher's row maximum + 0.5 × gap
  coverage (the baseline of the same name, as a feature);
- ``gap_coverage``: share of the item's point weight on the teacher's gaps (1 − mastery);
  ``max_gap``: the largest gap among the item's points — the mastered-points rule as a feature
  (0 when every point is mastered), so the ranker learns how much it matters instead of a
  filter removing items teachers do take;
- ``district_completers``, ``district_share``: completions in the teacher's 区县, the teacher
  excluded, as a count and over the district's teachers (:mod:`~.colleagues`);
- ``colleague_cocompletion``: completions of same-school colleagues weighted by how much their
  completions overlap hers (needs history, :mod:`~.colleagues`);
- ``hours``, ``is_practice``: the item's 学时 and whether it is a practice task;
- ``focus_fit``: how much of the teacher's own past study went to this item's points — teachers
  work through the points they chose (选点) over several courses, so this needs history;
- ``cf_als``, ``cf_knn``: collaborative-filtering scores (filled in by the hybrid model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.catalog import Catalog
from competency_model.framework import ENVIRONMENTS, Framework
from competency_model.graph import CompetencyGraph
from recommender.ranking.colleagues import district_counts, district_rows

__all__ = [
    "CONTENT_SIGNALS",
    "LEGACY_SIGNALS",
    "RECENCY_HALF_LIFE_DAYS",
    "SIGNALS",
    "ItemTable",
    "PointTable",
    "SocialCounts",
    "TeacherTable",
    "content_signals",
    "feasibility",
    "recent_completions",
]

#: Signals available for every teacher, including one with no history.
CONTENT_SIGNALS: tuple[str, ...] = (
    "expected_gain",
    "stage_fit",
    "subject_fit",
    "chosen_fit",
    "group_takers",
    "school_takers",
    "popularity",
    "group_completers",
    "school_completers",
    "group_share",
    "school_share",
    "group_rank",
    "school_rank",
    "recent_popularity",
    "completion_rate",
    "school_popularity_gap",
    "district_completers",
    "district_share",
    "gap_coverage",
    "max_gap",
    "hours",
    "is_practice",
)
#: The signals of the first (linear) blend; kept so its behaviour can be compared.
LEGACY_SIGNALS: tuple[str, ...] = (
    "expected_gain",
    "stage_fit",
    "subject_fit",
    "chosen_fit",
    "group_takers",
    "school_takers",
    "popularity",
    "focus_fit",
    "cf_als",
    "cf_knn",
)
#: All signals, in the column order the ranker uses.
SIGNALS: tuple[str, ...] = (
    *CONTENT_SIGNALS,
    "focus_fit",
    "cf_als",
    "cf_knn",
    "colleague_cocompletion",
)
#: Half-life of ``recent_popularity`` (days); fixed, not tuned on held-out data.
RECENCY_HALF_LIFE_DAYS = 30.0
GENERAL_SUBJECT = "通用"
_STAGES = ("幼儿园", "小学", "初中", "高中", "中职")


class _Arrays:
    """Round-trip a dataclass of arrays through ``{prefix_field: array}``."""

    def to_arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        return {
            f"{prefix}{f.name}": np.asarray(getattr(self, f.name))
            for f in fields(cast(Any, self))
            if not f.name.startswith("_")
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]], prefix: str) -> Any:
        return cls(
            **{
                f.name: np.asarray(arrays[f"{prefix}{f.name}"])
                for f in fields(cast(Any, cls))
                if not f.name.startswith("_")
            }
        )


@dataclass
class PointTable(_Arrays):
    """The framework's points as arrays (order = ``framework.codes``)."""

    codes: NDArray[np.str_]
    names_zh: NDArray[np.str_]
    names_en: NDArray[np.str_]
    environment_rank: NDArray[np.int64]
    #: Prerequisite edges as column indices: ``prereq_source[i]`` must precede ``prereq_target[i]``.
    prereq_source: NDArray[np.int64]
    prereq_target: NDArray[np.int64]

    @classmethod
    def from_framework(cls, framework: Framework) -> PointTable:
        graph = CompetencyGraph(framework)
        codes = framework.codes
        pairs = [
            (framework.index(q), framework.index(p)) for p in codes for q in graph.prerequisites(p)
        ]
        return cls(
            codes=np.array(codes),
            names_zh=np.array([p.name_zh for p in framework.points]),
            names_en=np.array([p.name_en for p in framework.points]),
            environment_rank=np.array(
                [ENVIRONMENTS.index(p.environment) for p in framework.points]
            ),
            prereq_source=np.array([a for a, _ in pairs], dtype=np.int64),
            prereq_target=np.array([b for _, b in pairs], dtype=np.int64),
        )

    def index(self, codes: Sequence[str]) -> NDArray[np.int64]:
        """Column positions of ``codes``; unknown codes raise ``KeyError`` naming them."""
        lookup = {c: i for i, c in enumerate(self.codes.tolist())}
        missing = [c for c in codes if c not in lookup]
        if missing:
            raise KeyError(
                f"unknown point codes {missing}; known: {', '.join(self.codes.tolist())}"
            )
        return np.array([lookup[c] for c in codes], dtype=np.int64)


@dataclass
class ItemTable(_Arrays):
    """Catalog items as arrays (courses and tasks together, in catalog order)."""

    item_ids: NDArray[np.str_]
    titles_zh: NDArray[np.str_]
    kinds: NDArray[np.str_]
    hours: NDArray[np.float64]
    levels: NDArray[np.str_]
    environment_rank: NDArray[np.int64]
    #: items × points, rows sum to 1.
    point_weights: NDArray[np.float32]
    #: items × stages (幼儿园, 小学, 初中, 高中, 中职).
    stage_mask: NDArray[np.bool_]
    #: ``;``-joined subjects per item (``通用`` = any subject).
    subjects: NDArray[np.str_]
    _fit_cache: dict[str, NDArray[np.float32]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_catalog(cls, catalog: Catalog, codes: Sequence[str]) -> ItemTable:
        items = list(catalog.items)
        position = {c: i for i, c in enumerate(codes)}
        weights = np.zeros((len(items), len(codes)), dtype=np.float32)
        for row, item in enumerate(items):
            for code, weight in item.points.items():
                weights[row, position[code]] = weight
        return cls(
            item_ids=np.array([i.item_id for i in items]),
            titles_zh=np.array([i.title_zh for i in items]),
            kinds=np.array([i.kind for i in items]),
            hours=np.array([i.hours for i in items], dtype=np.float64),
            levels=np.array([i.level for i in items]),
            environment_rank=np.array([ENVIRONMENTS.index(i.environment) for i in items]),
            point_weights=weights,
            stage_mask=np.array([[s in i.stages for s in _STAGES] for i in items], dtype=bool),
            subjects=np.array([";".join(i.subjects) for i in items]),
        )

    def stage_fit(self, stage: str) -> NDArray[np.float32]:
        """1 where the item is made for ``stage``."""
        if stage not in _STAGES:
            return np.zeros(len(self.item_ids), dtype=np.float32)
        return self.stage_mask[:, _STAGES.index(stage)].astype(np.float32)

    def subject_fit(self, subject: str) -> NDArray[np.float32]:
        """1 for the teacher's own subject, 0.5 for 通用 items, 0 otherwise.

        A 通用 course is usable by everyone but less targeted than a subject-specific one; the
        ranker learns how much either matters, this only keeps the two cases apart.
        """
        if subject in self._fit_cache:
            return self._fit_cache[subject]
        fit = np.zeros(len(self.item_ids), dtype=np.float32)
        self._fit_cache[subject] = fit
        for row, text in enumerate(self.subjects.tolist()):
            names = text.split(";")
            if subject in names:
                fit[row] = 1.0
            elif GENERAL_SUBJECT in names:
                fit[row] = 0.5
        return fit


@dataclass
class TeacherTable(_Arrays):
    """Teachers and their schools as arrays."""

    teacher_ids: NDArray[np.str_]
    school_row: NDArray[np.int64]
    #: Row into the 教研组 list (school × research group).
    group_row: NDArray[np.int64]
    stages: NDArray[np.str_]
    subjects: NDArray[np.str_]
    research_groups: NDArray[np.str_]
    school_ids: NDArray[np.str_]
    school_environment_rank: NDArray[np.int64]
    #: schools × points, True where the school chose the point.
    school_chosen: NDArray[np.bool_]
    group_keys: NDArray[np.str_]
    #: Per school, the row of its 区县 (district); one row for schools without a district.
    school_district: NDArray[np.int64]
    _sizes: dict[str, NDArray[np.float32]] = field(default_factory=dict, repr=False, compare=False)

    def sizes(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Teachers per 教研组 and per school (computed once; fold-in never changes them)."""
        if not self._sizes:
            self._sizes["group"] = np.bincount(
                self.group_row, minlength=len(self.group_keys)
            ).astype(np.float32)
            self._sizes["school"] = np.bincount(
                self.school_row, minlength=len(self.school_ids)
            ).astype(np.float32)
        return self._sizes["group"], self._sizes["school"]

    @classmethod
    def from_frames(
        cls, teachers: pd.DataFrame, schools: pd.DataFrame, codes: Sequence[str]
    ) -> TeacherTable:
        schools = schools.reset_index(drop=True)
        school_index = pd.Index(schools["school_id"].astype(str))
        school_row = school_index.get_indexer(teachers["school_id"].astype(str))
        if (school_row < 0).any():
            bad = teachers["school_id"].astype(str).to_numpy()[school_row < 0][0]
            raise ValueError(f"teachers.school_id {bad!r} is not in the schools table")
        group_keys = (
            teachers["school_id"].astype(str) + "|" + teachers["research_group"].astype(str)
        )
        group_codes, group_uniques = pd.factorize(group_keys, sort=True)
        position = {c: i for i, c in enumerate(codes)}
        chosen = np.zeros((len(schools), len(codes)), dtype=bool)
        for row, text in enumerate(schools["chosen_points"].fillna("").astype(str)):
            for code in filter(None, text.split(";")):
                if code in position:
                    chosen[row, position[code]] = True
        return cls(
            teacher_ids=np.asarray(teachers["teacher_id"].astype(str), dtype=str),
            school_row=school_row.astype(np.int64),
            group_row=group_codes.astype(np.int64),
            stages=np.asarray(teachers["stage"].astype(str), dtype=str),
            subjects=np.asarray(teachers["subject"].astype(str), dtype=str),
            research_groups=np.asarray(teachers["research_group"].astype(str), dtype=str),
            school_ids=school_index.to_numpy().astype(str),
            school_environment_rank=np.array(
                [ENVIRONMENTS.index(e) for e in schools["environment"].astype(str)], dtype=np.int64
            ),
            school_chosen=chosen,
            group_keys=np.asarray(group_uniques, dtype=str),
            school_district=district_rows(_district_keys(schools)),
        )


def _district_keys(schools: pd.DataFrame) -> NDArray[np.str_]:
    """City + district per school (a district name repeats across cities); "" when unknown."""
    keys = pd.Series("", index=schools.index)
    for column in ("city", "district"):
        if column in schools.columns:
            keys = keys + "|" + schools[column].fillna("").astype(str)
    return keys.to_numpy().astype(str)


@dataclass
class SocialCounts(_Arrays):
    """How many teachers per school, per 教研组 and overall took (and completed) each item."""

    group_took: NDArray[np.float32]
    group_completed: NDArray[np.float32]
    school_took: NDArray[np.float32]
    item_took: NDArray[np.float32]
    school_completed: NDArray[np.float32]
    item_completed: NDArray[np.float32]
    #: Province completions weighted by recency at the end of the training data.
    item_recent: NDArray[np.float32]

    @classmethod
    def from_matrices(
        cls,
        took: sp.csr_matrix,
        completed: sp.csr_matrix,
        teachers: TeacherTable,
        item_recent: NDArray[np.float32] | None = None,
    ) -> SocialCounts:
        """Aggregate binary teacher × item matrices to groups and schools.

        ``item_recent`` (see :func:`recent_completions`) defaults to the plain completion
        counts, for callers without timestamps.
        """
        to_group = _membership(teachers.group_row, len(teachers.group_keys))
        to_school = _membership(teachers.school_row, len(teachers.school_ids))
        item_completed = np.asarray(completed.sum(axis=0), dtype=np.float32).ravel()
        return cls(
            group_took=np.asarray((to_group @ took).todense(), dtype=np.float32),
            group_completed=np.asarray((to_group @ completed).todense(), dtype=np.float32),
            school_took=np.asarray((to_school @ took).todense(), dtype=np.float32),
            item_took=np.asarray(took.sum(axis=0), dtype=np.float32).ravel(),
            school_completed=np.asarray((to_school @ completed).todense(), dtype=np.float32),
            item_completed=item_completed,
            item_recent=(
                item_completed.copy()
                if item_recent is None
                else np.asarray(item_recent, dtype=np.float32)
            ),
        )


def recent_completions(
    item_columns: NDArray[np.int64],
    timestamps: NDArray[np.datetime64],
    n_items: int,
    half_life_days: float = RECENCY_HALF_LIFE_DAYS,
) -> NDArray[np.float32]:
    """Per item, Σ over its completions of 0.5^(age / half-life), age counted from the latest one.

    Examples
    --------
    >>> days = np.array(["2024-01-01", "2024-01-31"], dtype="datetime64[D]")
    >>> recent_completions(np.array([0, 1]), days, 2).round(2).tolist()
    [0.5, 1.0]
    """
    if item_columns.size == 0:
        return np.zeros(n_items, dtype=np.float32)
    seconds = np.asarray(timestamps, dtype="datetime64[s]").astype(np.int64).astype(np.float64)
    age_days = (seconds.max() - seconds) / 86_400.0
    weights = np.exp2(-age_days / half_life_days)
    return np.bincount(item_columns, weights=weights, minlength=n_items).astype(np.float32)


def _membership(rows: NDArray[np.int64], n_rows: int) -> sp.csr_matrix:
    """Sparse ``n_rows`` × teachers 0/1 matrix: left-multiplying sums teacher rows per row."""
    n = len(rows)
    return sp.csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(n_rows, n))


def feasibility(
    mastery: NDArray[np.float64], school_environment_rank: NDArray[np.int64], points: PointTable
) -> NDArray[np.float64]:
    """Per teacher × point: 0 if the school cannot host the point, else min prerequisite mastery.

    Parameters
    ----------
    mastery
        teachers × points mastery probabilities.
    school_environment_rank
        One rank (0 multimedia, 1 blended, 2 smart) per teacher.
    """
    hosted = points.environment_rank[None, :] <= school_environment_rank[:, None]
    ready = np.ones_like(mastery)
    for source, target in zip(points.prereq_source, points.prereq_target, strict=True):
        ready[:, target] = np.minimum(ready[:, target], mastery[:, source])
    return hosted * ready


def content_signals(
    mastery: NDArray[np.float64],
    school_rows: NDArray[np.int64],
    group_rows: NDArray[np.int64],
    stages: Sequence[str] | NDArray[np.str_],
    subjects: Sequence[str] | NDArray[np.str_],
    own_took: NDArray[np.float32] | None,
    teachers: TeacherTable,
    items: ItemTable,
    points: PointTable,
    social: SocialCounts,
    own_completed: NDArray[np.float32] | None = None,
) -> dict[str, NDArray[np.float32]]:
    """Content and social signals for a batch of teachers × every item.

    Parameters
    ----------
    mastery
        batch × points mastery probabilities.
    school_rows, group_rows
        Rows into the school and 教研组 tables; ``-1`` for a 教研组 the data has never seen
        (a new group has no colleague history).
    stages, subjects
        The teachers' 学段 and 学科.
    own_took, own_completed
        The teachers' own binary took- and completed-rows (batch × items), subtracted from the
        colleague and popularity counts so a teacher is never their own colleague; ``None`` for
        new teachers (``own_completed`` defaults to nothing completed).
    """
    n_items = len(items.item_ids)
    batch = len(school_rows)
    own = np.zeros((batch, n_items), dtype=np.float32) if own_took is None else own_took
    own_done = (
        np.zeros((batch, n_items), dtype=np.float32) if own_completed is None else own_completed
    )
    school_rank = teachers.school_environment_rank[school_rows]
    gap = (1.0 - mastery) * feasibility(mastery, school_rank, points)
    weights = items.point_weights.astype(np.float64)
    known_group = group_rows >= 0
    group = np.zeros_like(own)
    group[known_group] = social.group_took[group_rows[known_group]] - own[known_group]
    group_done = np.zeros_like(own)
    group_done[known_group] = (
        social.group_completed[group_rows[known_group]] - own_done[known_group]
    )
    school = social.school_took[school_rows] - own
    school_done = np.maximum(social.school_completed[school_rows] - own_done, 0)
    group_done = np.maximum(group_done, 0)
    group_size, school_size = teachers.sizes()
    # colleagues: the group or school without the teacher herself (a new teacher is not in it)
    self_count = 0.0 if own_took is None else 1.0
    group_colleagues = np.where(
        known_group, group_size[np.maximum(group_rows, 0)] - self_count, 0.0
    )
    school_colleagues = school_size[school_rows] - self_count
    # subject_fit memoises per subject and stage_fit is a column slice: no cache needed here
    stage = np.array([items.stage_fit(s) for s in stages], dtype=np.float32)
    subject = np.array([items.subject_fit(s) for s in subjects], dtype=np.float32)
    chosen = teachers.school_chosen[school_rows].astype(np.float64) @ weights.T
    popularity = np.log1p(np.maximum(social.item_took[None, :] - own, 0))
    studied = own.astype(np.float64) @ weights
    shares = studied / np.maximum(studied.sum(axis=1, keepdims=True), 1e-9)
    coverage = ((1.0 - mastery) @ weights.T) / np.maximum(weights.sum(axis=1), 1e-12)[None, :]
    max_gap = _max_gap(1.0 - mastery, weights > 0)
    top = np.maximum(school_done.max(axis=1, keepdims=True), 1e-12)
    completers = np.maximum(social.item_completed[None, :] - own_done, 0)
    takers = np.maximum(social.item_took[None, :] - own, 0)
    practice = ~np.isin(items.kinds, ["online_video", "live"])
    district_done, district_size = district_counts(
        social.school_completed, teachers.school_district, school_size, school_rows
    )
    district_done = np.maximum(district_done - own_done, 0)
    return {
        "focus_fit": (shares @ weights.T).astype(np.float32),
        "expected_gain": (gap @ weights.T).astype(np.float32),
        "stage_fit": stage.reshape(batch, n_items),
        "subject_fit": subject.reshape(batch, n_items),
        "chosen_fit": chosen.astype(np.float32),
        "group_takers": np.log1p(np.maximum(group, 0)).astype(np.float32),
        "school_takers": np.log1p(np.maximum(school, 0)).astype(np.float32),
        "popularity": popularity.astype(np.float32),
        "group_completers": np.log1p(group_done).astype(np.float32),
        "school_completers": np.log1p(school_done).astype(np.float32),
        "group_share": (group_done / np.maximum(group_colleagues, 1.0)[:, None]).astype(np.float32),
        "school_share": (school_done / np.maximum(school_colleagues, 1.0)[:, None]).astype(
            np.float32
        ),
        "group_rank": _row_percentile(group_done),
        "school_rank": _row_percentile(school_done),
        "recent_popularity": np.broadcast_to(
            np.log1p(social.item_recent)[None, :], (batch, n_items)
        ).astype(np.float32),
        "completion_rate": ((completers + 1.0) / (takers + 2.0)).astype(np.float32),
        "school_popularity_gap": (school_done / top + 0.5 * coverage).astype(np.float32),
        "district_completers": np.log1p(district_done).astype(np.float32),
        "district_share": (
            district_done / np.maximum(district_size - self_count, 1.0)[:, None]
        ).astype(np.float32),
        "gap_coverage": coverage.astype(np.float32),
        "max_gap": max_gap.astype(np.float32),
        "hours": np.broadcast_to(items.hours[None, :], (batch, n_items)).astype(np.float32),
        "is_practice": np.broadcast_to(practice[None, :], (batch, n_items)).astype(np.float32),
    }


def _max_gap(gaps: NDArray[np.float64], develops: NDArray[np.bool_]) -> NDArray[np.float64]:
    """batch × items: the largest gap among each item's points (items have few points each).

    Gathers the (at most a handful of) point columns per item instead of a batch × items ×
    points array, which for a ranker sample of 4,000 teachers would take gigabytes.
    """
    per_item = int(develops.sum(axis=1).max()) if develops.size else 0
    if per_item == 0:
        return np.zeros((len(gaps), develops.shape[0]))
    columns = np.argsort(~develops, axis=1, kind="stable")[:, :per_item]
    valid = np.take_along_axis(develops, columns, axis=1)
    gathered = gaps[:, columns]  # batch × items × per_item
    return np.where(valid[None, :, :], gathered, 0.0).max(axis=2)


def _row_percentile(counts: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per row, the share of items with a strictly smaller count (ties share one value).

    Examples
    --------
    >>> _row_percentile(np.array([[3.0, 1.0, 3.0, 0.0]], dtype=np.float32)).tolist()
    [[0.5, 0.25, 0.5, 0.0]]
    """
    ordered = np.sort(counts, axis=1)
    n = counts.shape[1]
    below = (
        np.stack([np.searchsorted(ordered[i], counts[i], side="left") for i in range(len(counts))])
        if len(counts)
        else np.zeros(counts.shape)
    )
    return (below / float(max(n, 1))).astype(np.float32)
