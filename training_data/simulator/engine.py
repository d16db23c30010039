"""Put the pieces together: a province, chunk by chunk of whole schools.

Province-wide quantities (schools, point difficulties, item and course parameters) come from the
stream ``default_rng([seed, 0])``; chunk *c* uses ``default_rng([seed, 1, c])``. Chunks are fixed
by the school table and ``chunk_teachers`` alone, so the in-memory :func:`simulate_province` and
the streaming writer produce the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.catalog import Catalog, default_catalog
from competency_model.framework import Framework, default_framework
from competency_model.graph import CompetencyGraph
from competency_model.item_bank import ItemBank, default_item_bank
from competency_model.province import Province
from training_data.simulator.choice_truth import ChoiceTruth, course_completion_logit
from training_data.simulator.choices import (
    CatalogArrays,
    choose_courses,
    choose_tasks,
    school_recommendations,
    select_points,
)
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.events import (
    Enrolments,
    build_events,
    censor_at_export,
    days_to_timestamps,
    grade_points,
    park_after_target,
    simulate_outcomes,
)
from training_data.simulator.families import FamilyEffects, build_family
from training_data.simulator.learning import study_dose
from training_data.simulator.mastery import (
    graph_correlation,
    learning_gain,
    point_difficulty,
    sample_latent,
)
from training_data.simulator.responses import (
    ItemParameters,
    draw_item_parameters,
    simulate_responses,
)
from training_data.simulator.schools import point_environment_ranks, simulate_schools
from training_data.simulator.teachers import fixed_effects, simulate_teachers

__all__ = [
    "ProvinceContext",
    "iter_chunks",
    "prepare",
    "simulate_chunk",
    "simulate_province",
    "simulate_province_with_choice_truth",
]


@dataclass
class ProvinceContext:
    """Everything shared by all chunks of one simulated province."""

    seed: int
    config: SimulatorConfig
    framework: Framework
    codes: list[str]
    schools: pd.DataFrame
    point_env: NDArray[np.int64]
    difficulty: NDArray[np.float64]
    correlation_factor: NDArray[np.float64]
    transfer: NDArray[np.float64]
    q_matrix: NDArray[np.int8]
    items: ItemParameters
    catalog: CatalogArrays
    family: FamilyEffects

    def chunks(self) -> list[tuple[int, int]]:
        """(first school row, end school row) of each chunk: whole schools, ≈ chunk_teachers each."""
        sizes = self.schools["n_teachers"].to_numpy()
        bounds, start, total = [], 0, 0
        for row, size in enumerate(sizes):  # one pass over schools, not teachers
            total += int(size)
            if total >= self.config.chunk_teachers:
                bounds.append((start, row + 1))
                start, total = row + 1, 0
        if start < sizes.size:
            bounds.append((start, sizes.size))
        return bounds


def prepare(
    n_teachers: int,
    n_schools: int,
    seed: int,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    item_bank: ItemBank | None = None,
    config: SimulatorConfig | None = None,
) -> ProvinceContext:
    """Draw the province-level quantities (schools, difficulties, item and course parameters)."""
    cfg = config if config is not None else SimulatorConfig()
    fw = framework if framework is not None else default_framework()
    bank = item_bank if item_bank is not None else default_item_bank()
    cat = catalog if catalog is not None else default_catalog()
    rng = np.random.default_rng([seed, 0])
    schools = simulate_schools(n_teachers, n_schools, rng, cfg, fw)
    point_env = point_environment_ranks(fw)
    adjacency = CompetencyGraph(fw).adjacency_matrix()
    transfer = adjacency / np.maximum(adjacency.sum(axis=1, keepdims=True), 1e-12)
    # draw order of the province stream is fixed: difficulty, item parameters, catalog
    difficulty = point_difficulty(point_env, rng, cfg)
    items = draw_item_parameters(bank, rng, cfg)
    arrays = CatalogArrays.build(cat, list(fw.codes), rng, cfg)
    family = build_family(
        cfg, seed, graph_correlation(fw, cfg.laplacian_ridge), schools, list(fw.codes), arrays
    )
    return ProvinceContext(
        seed=seed,
        config=cfg,
        framework=fw,
        codes=list(fw.codes),
        schools=schools,
        point_env=point_env,
        difficulty=difficulty,
        correlation_factor=np.asarray(np.linalg.cholesky(family.correlation), dtype=np.float64),
        transfer=transfer if family.spill_over else np.zeros_like(transfer),
        q_matrix=bank.q_matrix(fw.codes),
        items=items,
        catalog=arrays,
        family=family,
    )


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _mastery_frame(
    teacher_ids: pd.Series, mastered: NDArray[np.bool_], codes: list[str]
) -> pd.DataFrame:
    frame = pd.DataFrame(mastered.astype(np.int8), columns=codes)
    frame.insert(0, "teacher_id", teacher_ids)
    return frame


def _within_teacher_cumsum(
    teacher: NDArray[np.int64], values: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Running sum of ``values`` restarting at each teacher (rows sorted by teacher)."""
    total = np.cumsum(values)
    first = np.searchsorted(teacher, teacher, side="left")
    return total - total[first] + values[first]


def simulate_chunk(ctx: ProvinceContext, chunk: int, first_row: int, end_row: int) -> Province:
    """Simulate the teachers of schools ``first_row:end_row`` (one chunk) and their data."""
    return _simulate_chunk(ctx, chunk, first_row, end_row, keep_choice_truth=False)[0]


def _simulate_chunk(
    ctx: ProvinceContext, chunk: int, first_row: int, end_row: int, keep_choice_truth: bool
) -> tuple[Province, ChoiceTruth | None]:
    """One chunk's tables and, if asked, its :class:`ChoiceTruth` (the same draws either way)."""
    cfg, arrays, family = ctx.config, ctx.catalog, ctx.family
    rng = np.random.default_rng([ctx.seed, 1, chunk])
    schools = ctx.schools.iloc[first_row:end_row].reset_index(drop=True)
    first_teacher = 1 + int(ctx.schools["n_teachers"].to_numpy()[:first_row].sum())
    block = simulate_teachers(schools, first_teacher, rng, cfg)
    ids = block.table["teacher_id"]
    n = len(block.table)
    theta = sample_latent(
        fixed_effects(block, schools, ctx.point_env, cfg),
        block.school_of,
        block.group_of,
        block.n_groups,
        ctx.correlation_factor,
        rng,
        cfg,
    )
    margin = theta - ctx.difficulty[None, :]
    # teacher traits (also the hidden preference table)
    overconfidence = rng.normal(cfg.overconfidence_mean, cfg.overconfidence_sd, n)
    skip_rate = rng.beta(*cfg.skip_beta, n)
    respondent = rng.random(n) >= cfg.non_respondent_share
    conscientiousness = rng.standard_normal(n)
    learning_rate = rng.lognormal(0.0, 0.3, n)
    live_preference = rng.normal(-0.3, 0.7, n)
    early = rng.random(n) < cfg.early_adopter_share
    engaged = rng.random(n) >= cfg.disengaged_share
    target_hours = np.where(
        engaged, cfg.online_hours_target * rng.lognormal(0.1, 0.25, n), rng.uniform(0.0, 8.0, n)
    )
    responses = simulate_responses(
        ids, margin, ctx.q_matrix, ctx.items, overconfidence, skip_rate, respondent, rng
    )
    # 选点 and course choice
    env_index = {e: i for i, e in enumerate(cfg.environments)}
    school_env = schools["environment"].map(env_index).to_numpy().astype(np.int64)
    column = {c: j for j, c in enumerate(ctx.codes)}
    chosen = np.zeros((len(schools), len(ctx.codes)), dtype=bool)
    for row, text in enumerate(schools["chosen_points"]):  # schools of this chunk only
        chosen[row, [column[c] for c in text.split(";") if c]] = True
    feasible = ctx.point_env[None, :] <= school_env[block.school_of][:, None]
    perceived_gap = _sigmoid(-(margin + overconfidence[:, None]))
    selected = select_points(perceived_gap, feasible, chosen[block.school_of], rng, cfg)
    focus = selected + 0.35 * perceived_gap * feasible
    recommended = school_recommendations(chosen, school_env, arrays, rng)
    if family.mandated is not None:  # drawn anyway so the chunk stream matches `graph`
        recommended = family.mandated[first_row:end_row]
    choices = choose_courses(
        focus,
        margin,
        block.stage,
        block.subject,
        block.school_of,
        school_env,
        block.group_of,
        block.n_groups,
        recommended,
        live_preference,
        target_hours * (cfg.over_enrolment if family.export_day is not None else 1.0),
        early,
        arrays,
        rng,
        family.choice_config,
        family.item_utility,
    )
    teacher, item, order, need = choices.teacher, choices.item, choices.order, choices.need
    # timing
    school_start = (schools["rollout_batch"].to_numpy() - 1) * 365.0 + rng.uniform(
        0, 30, len(schools)
    )
    questionnaire_day = school_start[block.school_of] + rng.uniform(0, 14, n)
    by_teacher = np.lexsort((order, teacher))
    teacher, item, need = teacher[by_teacher], item[by_teacher], need[by_teacher]
    gaps = rng.exponential(15.0, teacher.size)
    start = questionnaire_day[teacher] + 3.0 + _within_teacher_cumsum(teacher, gaps)
    hours = arrays.hours[item]
    logit = course_completion_logit(
        conscientiousness[teacher],
        need,
        item,
        arrays.hours,
        family.item_completion,
        None if family.mandated is None else recommended[block.school_of[teacher], item],
        cfg,
    )
    courses = simulate_outcomes(
        teacher,
        item,
        start,
        hours * rng.uniform(1.0, 5.0, teacher.size),
        _sigmoid(logit),
        3.0 + arrays.quality[item] + 0.8 * (need - 0.5),
        rng,
        cfg,
    )
    task_teacher, task_item = choose_tasks(
        selected, block.stage, block.subject, school_env[block.school_of], arrays, rng
    )
    tasks = simulate_outcomes(
        task_teacher,
        task_item,
        questionnaire_day[task_teacher] + rng.uniform(45, 165, task_teacher.size),
        rng.uniform(14, 60, task_teacher.size),
        _sigmoid(cfg.task_completion_intercept + conscientiousness[task_teacher]),
        3.3 + arrays.quality[task_item],
        rng,
        cfg,
    )
    if family.export_day is not None:
        courses = park_after_target(courses, hours, target_hours, rng)
        courses = censor_at_export(courses, family.export_day)
        tasks = censor_at_export(tasks, family.export_day)
    events = build_events([courses, tasks], ids, first_teacher, arrays.item_ids, cfg)
    # learning
    final_margin = margin + learning_gain(
        study_dose(courses, tasks, n, cfg, arrays), learning_rate, ctx.transfer, cfg
    )
    grades = _grades(tasks, selected, final_margin, block.school_of, ids, ctx, rng)
    if family.export_day is not None:  # evidence graded after the export is not in it
        export = days_to_timestamps(cfg.cycle_start, np.array([family.export_day]))[0]
        grades = grades[grades["assessed_at"].to_numpy() < export].reset_index(drop=True)
    preferences = pd.DataFrame(
        {
            "teacher_id": ids,
            "selected_points": [";".join(np.array(ctx.codes)[row]) for row in selected],
            "target_online_hours": np.round(target_hours, 2),
            "conscientiousness": conscientiousness,
            "learning_rate": learning_rate,
            "overconfidence": overconfidence,
            "live_preference": live_preference,
            "skip_rate": skip_rate,
            "respondent": respondent.astype(np.int8),
            "early_adopter": early.astype(np.int8),
        }
    )
    province = Province(
        schools=schools.drop(columns=["development"]),
        teachers=block.table,
        responses=responses,
        grades=grades,
        events=events,
        truth_mastery_initial=_mastery_frame(ids, margin > 0, ctx.codes),
        truth_mastery=_mastery_frame(ids, final_margin > 0, ctx.codes),
        truth_preferences=preferences,
    )
    if not keep_choice_truth:
        return province, None
    truth = ChoiceTruth.from_choices(
        ids.to_numpy().astype(str),
        np.asarray(arrays.item_ids),
        choices,
        conscientiousness,
        arrays.hours,
        family.item_completion,
        None if family.mandated is None else recommended[block.school_of],
        cfg,
    )
    return province, truth


def _grades(
    tasks: Enrolments,
    selected: NDArray[np.bool_],
    final_margin: NDArray[np.float64],
    school_of: NDArray[np.int64],
    ids: pd.Series,
    ctx: ProvinceContext,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Grade each selected point that a completed practice task produced evidence for."""
    done = np.flatnonzero(tasks.completed)
    covers = ctx.catalog.weights[tasks.item[done]] > 0
    row, point = np.nonzero(covers & selected[tasks.teacher[done]])
    teacher = tasks.teacher[done][row]
    day = (tasks.start + tasks.duration)[done][row] + rng.uniform(3, 30, row.size)
    key = teacher * len(ctx.codes) + point
    order = np.lexsort((day, key))
    keep = order[np.r_[True, key[order][1:] != key[order][:-1]]] if key.size else order
    keep = np.sort(keep)
    n_schools = int(school_of.max()) + 1 if school_of.size else 0
    leniency = rng.normal(0.0, ctx.config.school_leniency_sd, n_schools)
    return grade_points(
        teacher[keep],
        point[keep],
        final_margin,
        leniency[school_of[teacher[keep]]],
        day[keep],
        ids,
        ctx.codes,
        rng,
        ctx.config,
    )


def iter_chunks(ctx: ProvinceContext) -> Iterator[Province]:
    """Yield one :class:`Province` per chunk of schools (truth_items not attached)."""
    for chunk, (first_row, end_row) in enumerate(ctx.chunks()):
        yield simulate_chunk(ctx, chunk, first_row, end_row)


def simulate_province(
    n_teachers: int,
    n_schools: int,
    seed: int,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    item_bank: ItemBank | None = None,
    config: SimulatorConfig | None = None,
) -> Province:
    """Simulate a province with known ground truth, in memory.

    Parameters
    ----------
    n_teachers, n_schools
        Sizes; every school gets 20–300 teachers, so ``n_teachers / n_schools`` must lie in that
        range.
    seed
        The only source of randomness: the same seed gives identical tables.
    framework, catalog, item_bank
        Defaults are the shipped national framework, catalog and item bank.
    config
        Model parameters (:class:`SimulatorConfig`); defaults as in ``docs/simulator.md``.

    Returns
    -------
    Province
        Core tables plus ``truth_mastery_initial``, ``truth_mastery``, ``truth_items`` and
        ``truth_preferences``. For a million teachers prefer
        :func:`training_data.simulator.write_simulated_province`, which streams to disk.

    Examples
    --------
    >>> province = simulate_province(300, 4, seed=1)
    >>> len(province.teachers)
    300
    """
    ctx = prepare(n_teachers, n_schools, seed, framework, catalog, item_bank, config)
    return _stack(ctx, list(iter_chunks(ctx)))


def simulate_province_with_choice_truth(
    n_teachers: int,
    n_schools: int,
    seed: int,
    framework: Framework | None = None,
    catalog: Catalog | None = None,
    item_bank: ItemBank | None = None,
    config: SimulatorConfig | None = None,
) -> tuple[Province, ChoiceTruth]:
    """:func:`simulate_province` (identical tables) plus the teachers' :class:`ChoiceTruth`.

    For the oracle ceiling of the recommender evaluation; memory grows with teachers × courses.
    """
    ctx = prepare(n_teachers, n_schools, seed, framework, catalog, item_bank, config)
    parts, truths = [], []
    for chunk, (first_row, end_row) in enumerate(ctx.chunks()):
        part, truth = _simulate_chunk(ctx, chunk, first_row, end_row, keep_choice_truth=True)
        parts.append(part)
        truths.append(truth)
    return _stack(ctx, parts), ChoiceTruth.concat([t for t in truths if t is not None])


def _stack(ctx: ProvinceContext, parts: list[Province]) -> Province:
    tables = {
        name: pd.concat([getattr(p, name) for p in parts], ignore_index=True)
        for name in (
            "schools",
            "teachers",
            "responses",
            "grades",
            "events",
            "truth_mastery_initial",
            "truth_mastery",
            "truth_preferences",
        )
    }
    return Province(**tables, truth_items=ctx.items.to_frame())
