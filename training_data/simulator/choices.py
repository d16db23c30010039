"""Which points a teacher works on and which courses and practice tasks she enrols in.

A teacher first picks points (选点): mostly from her school's list, by perceived gap, sometimes
one personal extra. Course choice is a random-utility model (Gumbel noise, so the choice is a
multinomial logit without replacement):

    U_tc = w_need·need_tc + fit_tc + w_pop·pop_c + level_tc + live_t·[live] + w_rec·[school
           recommends c] + w_g·share_group_c + w_s·share_school_c + Gumbel,

with need_tc = Σ_k W_ck (selected_tk + 0.35·perceived_gap_tk). A teacher enrols in her best
courses until their 学时 reach her target. Peer influence runs in two rounds: early adopters
choose first; everyone else sees the share of early adopters in her 教研组 and school who took
each course.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from competency_model.catalog import (
    GENERAL_SUBJECT,
    LEVELS,
    ONLINE_KINDS,
    RECOMMENDABLE_KINDS,
    STAGES,
    Catalog,
)
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.teachers import SUBJECTS

__all__ = [
    "CatalogArrays",
    "CourseChoices",
    "choose_courses",
    "choose_tasks",
    "enrol_until_target",
    "school_recommendations",
    "select_points",
]


@dataclass
class CatalogArrays:
    """The catalog as arrays for vectorised choice (rows in catalog order)."""

    item_ids: list[str]
    weights: NDArray[np.float64]  # items × points
    hours: NDArray[np.float64]
    online: NDArray[np.bool_]
    live: NDArray[np.bool_]
    environment: NDArray[np.int64]
    level: NDArray[np.int64]
    stage_ok: NDArray[np.bool_]  # stages × items
    subject_fit: NDArray[np.float64]  # subjects × items: match / general (0) / mismatch
    primary: NDArray[np.int64]
    popularity: NDArray[np.float64]  # hidden, drawn from the province seed
    quality: NDArray[np.float64]  # hidden, drawn from the province seed

    @classmethod
    def build(
        cls, catalog: Catalog, codes: list[str], rng: np.random.Generator, config: SimulatorConfig
    ) -> CatalogArrays:
        """Arrays plus the hidden popularity N(0, 1) and quality N(0, 0.5) of each item."""
        # Simulated teachers choose courses and tasks; the regional practice kinds are
        # activities a school records, so they are left out of the choice set.
        items = [item for item in catalog.items if item.kind in RECOMMENDABLE_KINDS]
        env = {e: i for i, e in enumerate(config.environments)}
        weights = Catalog(items).point_weight_matrix(codes)
        subject_fit = np.zeros((len(SUBJECTS), len(items)))
        for j, item in enumerate(items):
            if GENERAL_SUBJECT in item.subjects:
                continue
            for s, subject in enumerate(SUBJECTS):
                subject_fit[s, j] = (
                    config.weight_subject_match
                    if subject in item.subjects
                    else config.weight_subject_mismatch
                )
        return cls(
            item_ids=[item.item_id for item in items],
            weights=weights,
            hours=np.array([item.hours for item in items]),
            online=np.array([item.kind in ONLINE_KINDS for item in items]),
            live=np.array([item.kind == "live" for item in items]),
            environment=np.array([env[item.environment] for item in items]),
            level=np.array([LEVELS.index(item.level) for item in items]),
            stage_ok=np.array([[st in item.stages for item in items] for st in STAGES]),
            subject_fit=subject_fit,
            primary=weights.argmax(axis=1),
            popularity=rng.standard_normal(len(items)),
            quality=rng.normal(0.0, 0.5, len(items)),
        )

    def hosted(
        self, columns: NDArray[np.int64], school_env: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """Rows × ``columns``: True where the row's school environment rank can host the item."""
        return self.environment[columns][None, :] <= school_env[:, None]


@dataclass
class CourseChoices:
    """The online enrolments drawn by :func:`choose_courses` and the utility they were drawn from.

    ``teacher``, ``item``, ``order`` and ``need`` have one entry per enrolment. The matrices
    (teachers × ``columns``, the catalog rows of the online courses) are the part of each
    teacher's utility that is not Gumbel noise, peers included for those who chose in the second
    round, and the need term: what an oracle knowing the simulator's state ranks by.
    """

    teacher: NDArray[np.int64]
    item: NDArray[np.int64]
    order: NDArray[np.int64]
    need: NDArray[np.float64]
    columns: NDArray[np.int64]
    systematic_utility: NDArray[np.float64]
    need_matrix: NDArray[np.float64]
    target_hours: NDArray[np.float64]


def _top_k_mask(score: NDArray[np.float64], k: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per row, True at the ``k[row]`` largest finite scores."""
    rank = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1, kind="stable")
    return (rank < k[:, None]) & np.isfinite(score)


def select_points(
    perceived_gap: NDArray[np.float64],
    feasible: NDArray[np.bool_],
    school_chosen: NDArray[np.bool_],
    rng: np.random.Generator,
    config: SimulatorConfig,
) -> NDArray[np.bool_]:
    """Teachers × points mask of the points each teacher works on (2–3 school points + maybe 1)."""
    n = perceived_gap.shape[0]
    noise = rng.gumbel(size=perceived_gap.shape)
    school_score = np.where(school_chosen, 2.0 * perceived_gap + noise, -np.inf)
    n_school = np.where(rng.random(n) < 0.75, 3, 2)
    own_score = np.where(feasible & ~school_chosen, 2.0 * perceived_gap + noise, -np.inf)
    extra = np.asarray(rng.random(n) < config.extra_point_probability, dtype=np.int64)
    return _top_k_mask(school_score, n_school) | _top_k_mask(own_score, extra)


def school_recommendations(
    chosen: NDArray[np.bool_],
    school_env: NDArray[np.int64],
    arrays: CatalogArrays,
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """Schools × items: for each chosen point the school promotes its two favourite courses."""
    n_schools = chosen.shape[0]
    recommended = np.zeros((n_schools, arrays.online.size), dtype=bool)
    for point in np.flatnonzero(chosen.any(axis=0)):  # ≤ 30 points, vectorised over schools
        candidates = np.flatnonzero(arrays.online & (arrays.primary == point))
        if candidates.size == 0:
            continue
        score = arrays.popularity[candidates][None, :] + rng.gumbel(
            size=(n_schools, candidates.size)
        )
        score = np.where(arrays.hosted(candidates, school_env), score, -np.inf)
        top = _top_k_mask(score, np.full(n_schools, 2)) & chosen[:, point][:, None]
        recommended[:, candidates] |= top
    return recommended


def _static_utility(
    focus: NDArray[np.float64],
    margin: NDArray[np.float64],
    stage: NDArray[np.int64],
    subject: NDArray[np.int64],
    school_env: NDArray[np.int64],
    live_preference: NDArray[np.float64],
    columns: NDArray[np.int64],
    arrays: CatalogArrays,
    config: SimulatorConfig,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Utility without peers and noise (teachers × items in ``columns``) and the need term."""
    weights = arrays.weights[columns]
    need = focus @ weights.T
    ability = margin @ weights.T
    ideal_level = np.clip(1.0 + ability, 0.0, 2.0)
    utility = (
        config.weight_need * need
        + np.where(arrays.stage_ok[:, columns][stage], 0.0, config.weight_stage_mismatch)
        + arrays.subject_fit[:, columns][subject]
        + config.weight_popularity * arrays.popularity[columns][None, :]
        - config.weight_level * np.abs(arrays.level[columns][None, :] - ideal_level)
        + live_preference[:, None] * arrays.live[columns][None, :]
    )
    return np.where(arrays.hosted(columns, school_env), utility, -np.inf), need


def enrol_until_target(
    utility: NDArray[np.float64],
    hours: NDArray[np.float64],
    target_hours: NDArray[np.float64],
    max_courses: int,
) -> NDArray[np.bool_]:
    """Rows × courses: each row's best courses by ``utility`` until their 学时 reach its target.

    A course is taken while the hours of the better ones before it are below the target (so the
    last one may overshoot), at most ``max_courses``, never one of utility ``-inf``.
    """
    k_max = min(max_courses, utility.shape[1])
    top = np.argpartition(-utility, k_max - 1, axis=1)[:, :k_max]
    top_utility = np.take_along_axis(utility, top, axis=1)
    order = np.argsort(-top_utility, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_utility = np.take_along_axis(top_utility, order, axis=1)
    top_hours = hours[top]
    before = np.cumsum(top_hours, axis=1) - top_hours
    keep = (before < target_hours[:, None]) & np.isfinite(top_utility)
    chosen = np.zeros(utility.shape, dtype=bool)
    rows = np.repeat(np.arange(utility.shape[0]), k_max)
    chosen[rows[keep.ravel()], top.ravel()[keep.ravel()]] = True
    return chosen


def _group_share(
    chosen: NDArray[np.bool_], group: NDArray[np.int64], members: NDArray[np.bool_], n_groups: int
) -> NDArray[np.float64]:
    """Share of each group's early adopters who chose each item (groups × items)."""
    counts = np.zeros((n_groups, chosen.shape[1]))
    np.add.at(counts, group[members], chosen[members])
    size = np.bincount(group[members], minlength=n_groups).astype(np.float64)
    return counts / np.maximum(size, 1.0)[:, None]


def choose_courses(
    focus: NDArray[np.float64],
    margin: NDArray[np.float64],
    stage: NDArray[np.int64],
    subject: NDArray[np.int64],
    school_of: NDArray[np.int64],
    school_env: NDArray[np.int64],
    group_of: NDArray[np.int64],
    n_groups: int,
    recommended: NDArray[np.bool_],
    live_preference: NDArray[np.float64],
    target_hours: NDArray[np.float64],
    early: NDArray[np.bool_],
    arrays: CatalogArrays,
    rng: np.random.Generator,
    config: SimulatorConfig,
    item_utility: NDArray[np.float64] | None = None,
) -> CourseChoices:
    """Online enrolments (teacher, catalog item, order of enrolment, need) and their utility.

    ``item_utility`` (per catalog item, e.g. a family's quality and list-position terms) is
    added to every teacher's utility.
    """
    columns = np.flatnonzero(arrays.online)
    if columns.size == 0:  # a catalog of practice tasks only: nobody studies online
        empty = np.zeros(0, dtype=np.int64)
        nothing = np.zeros((focus.shape[0], 0))
        return CourseChoices(
            empty, empty, empty, np.zeros(0), empty, nothing, nothing, target_hours
        )
    base, need = _static_utility(
        focus,
        margin,
        stage,
        subject,
        school_env[school_of],
        live_preference,
        columns,
        arrays,
        config,
    )
    base = base + config.weight_school_recommended * recommended[:, columns][school_of]
    if item_utility is not None:
        base = base + item_utility[columns][None, :]
    noisy = base + rng.gumbel(size=base.shape)
    hours = arrays.hours[columns]

    def pick(utility: NDArray[np.float64]) -> NDArray[np.bool_]:
        return enrol_until_target(utility, hours, target_hours, config.max_courses)

    first = pick(noisy)
    share_group = _group_share(first, group_of, early, n_groups)
    share_school = _group_share(first, school_of, early, int(school_of.max()) + 1)
    peer = (
        config.weight_peer_group * share_group[group_of]
        + config.weight_peer_school * share_school[school_of]
    )
    second = pick(noisy + peer)
    chosen = np.where(early[:, None], first, second)
    # enrolment order: by utility including peers, so popular-in-group courses come first
    final_utility = np.where(chosen, noisy + peer, -np.inf)
    rank = np.argsort(np.argsort(-final_utility, axis=1, kind="stable"), axis=1, kind="stable")
    teacher, column = np.nonzero(chosen)
    return CourseChoices(
        teacher=teacher,
        item=columns[column],
        order=rank[teacher, column],
        need=need[teacher, column],
        columns=columns,
        systematic_utility=np.where(early[:, None], base, base + peer),
        need_matrix=need,
        target_hours=target_hours,
    )


def choose_tasks(
    selected: NDArray[np.bool_],
    stage: NDArray[np.int64],
    subject: NDArray[np.int64],
    school_env: NDArray[np.int64],
    arrays: CatalogArrays,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """One practice task per selected point: (teacher, catalog item), duplicates removed."""
    columns = np.flatnonzero(~arrays.online)
    teacher, point = np.nonzero(selected)
    if columns.size == 0 or teacher.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    weights = arrays.weights[columns]
    covers = weights[:, point].T > 0
    utility = (
        3.0 * weights[:, point].T
        + np.where(arrays.stage_ok[:, columns][stage[teacher]], 0.0, -3.0)
        + arrays.subject_fit[:, columns][subject[teacher]]
        + 0.5 * arrays.popularity[columns][None, :]
        + rng.gumbel(size=covers.shape)
    )
    feasible = covers & arrays.hosted(columns, school_env[teacher])
    utility = np.where(feasible, utility, -np.inf)
    best = utility.argmax(axis=1)
    has = feasible.any(axis=1)
    pairs = np.unique(teacher[has] * columns.size + best[has])
    return pairs // columns.size, columns[pairs % columns.size]
