"""Can every teacher get a compliant plan? Per stage × environment checks of a catalog and a policy.

Two views of the same question, both built on :func:`build_learning_path` so they can never
disagree with what a teacher is actually offered:

* :func:`catalog_check` — for each stage × school environment, whether *some* compliant plan
  exists (no diagnosis needed: every gap is taken as 0.5) and, when not, the rules that fail
  with what to add (``nengli catalog check --policy P``);
* :func:`plan_coverage` — for a table of real or simulated teachers, the share per
  policy × stage × environment cell whose plan passes :func:`validate_plan` (the ≥ 99 % target
  of issue 18, measured by ``bench/bench_plan_coverage.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from competency_model.catalog import STAGES, Catalog
from competency_model.errors import InfeasibleError
from competency_model.framework import ENVIRONMENTS, Framework
from competency_model.graph import CompetencyGraph
from competency_model.policy import Policy, validate_plan
from competency_model.progress import NO_PROGRESS, ProgressReporter
from recommender.paths.builder import build_learning_path, candidate_pool
from training_data.simulator import iter_chunks, prepare

__all__ = ["CellCheck", "catalog_check", "plan_coverage", "simulated_cells"]


@dataclass(frozen=True)
class CellCheck:
    """One stage × environment of :func:`catalog_check`."""

    stage: str
    environment: str
    possible: bool
    #: online and practice hours the usable items offer, summed over the coverable points
    online_hours: float
    practice_hours: float
    coverable_points: list[str]
    #: each failing rule as a :class:`~competency_model.plan.Violation` dict (zh + en)
    missing: list[dict[str, Any]] = field(default_factory=list)
    example_targets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI prints it)."""
        return {
            "stage": self.stage,
            "environment": self.environment,
            "possible": self.possible,
            "online_hours": round(self.online_hours, 1),
            "practice_hours": round(self.practice_hours, 1),
            "coverable_points": self.coverable_points,
            "example_targets": self.example_targets,
            "missing": self.missing,
        }


def catalog_check(
    policy: Policy,
    catalog: Catalog,
    framework: Framework,
    *,
    stages: Sequence[str] = STAGES,
    environments: Sequence[str] = ENVIRONMENTS,
    graph: CompetencyGraph | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> list[CellCheck]:
    """Whether a compliant plan is possible for each stage × environment, and what is missing.

    A teacher of ``通用`` subject is assumed (subject-specific items only add to the pool), with
    no diagnosis (every gap 0.5) and no school selection, so the answer is about the catalog
    and the policy, not about one teacher. ``progress`` counts the cells planned (each is a
    MILP solve).
    """
    graph = graph if graph is not None else CompetencyGraph(framework)
    neutral = dict.fromkeys(framework.codes, 0.5)
    cells = []
    progress.stage("规划 planning stage × environment cells", total=len(stages) * len(environments))
    for stage in stages:
        for environment in environments:
            progress.advance()
            pool, coverable = candidate_pool(catalog, environment, policy, graph, stage, None)
            on_points = [it for it in pool if set(it.points) & coverable]
            online = sum(it.hours for it in on_points if it.kind in policy.online_kinds)
            practice = sum(it.hours for it in on_points if it.kind in policy.practice_kinds)
            points = [c for c in framework.codes if c in coverable]
            try:
                plan = build_learning_path(
                    "catalog-check",
                    neutral,
                    environment,
                    policy,
                    catalog,
                    framework,
                    stage=stage,
                    graph=graph,
                )
            except InfeasibleError as error:
                missing = list(error.details.get("violations", []))
                if not missing and error.details.get("rule"):
                    missing = [{k: error.details.get(k) for k in ("rule", "expected", "actual")}]
                cells.append(
                    CellCheck(stage, environment, False, online, practice, points, missing)
                )
                continue
            cells.append(
                CellCheck(stage, environment, True, online, practice, points, [], plan.targets)
            )
    return cells


def plan_coverage(
    teachers: pd.DataFrame,
    mastery: Mapping[str, Mapping[str, float]],
    policies: Iterable[Policy],
    catalog: Catalog,
    framework: Framework,
    *,
    graph: CompetencyGraph | None = None,
) -> pd.DataFrame:
    """Share of teachers per policy × stage × environment whose plan passes ``validate_plan``.

    Parameters
    ----------
    teachers
        Columns ``teacher_id``, ``stage``, ``subject``, ``environment`` (the school's) and
        ``chosen_points`` (the school's ``;``-separated selection, may be empty).
    mastery
        Per teacher id, mastery per point (diagnosed, or the simulator's truth).

    Returns
    -------
    pandas.DataFrame
        ``policy, stage, environment, teachers, compliant, share`` plus ``first_failure`` (the
        first refusal's message in the cell, empty when none).
    """
    needed = {"teacher_id", "stage", "subject", "environment", "chosen_points"}
    missing = needed - set(teachers.columns)
    if missing:
        raise ValueError(f"teachers table lacks columns {sorted(missing)}")
    graph = graph if graph is not None else CompetencyGraph(framework)
    rows = []
    for policy in policies:
        for (stage, environment), group in teachers.groupby(["stage", "environment"], sort=True):
            compliant, failure = 0, ""
            for row in group.itertuples(index=False):
                chosen = [c for c in str(row.chosen_points or "").split(";") if c]
                try:
                    plan = build_learning_path(
                        str(row.teacher_id),
                        mastery[str(row.teacher_id)],
                        str(environment),
                        policy,
                        catalog,
                        framework,
                        chosen_points=chosen,
                        stage=str(stage),
                        subject=str(row.subject),
                        graph=graph,
                    )
                except InfeasibleError as error:
                    failure = failure or error.message
                    continue
                if not validate_plan(plan, policy, framework, str(environment)):
                    compliant += 1
            rows.append(
                {
                    "policy": policy.name,
                    "stage": stage,
                    "environment": environment,
                    "teachers": len(group),
                    "compliant": compliant,
                    "share": compliant / len(group),
                    "first_failure": failure,
                }
            )
    return pd.DataFrame(rows)


def simulated_cells(
    n_teachers: int,
    n_schools: int,
    per_cell: int,
    seed: int,
    framework: Framework,
    catalog: Catalog,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Up to ``per_cell`` random teachers of each stage × environment of a simulated province.

    Mastery is the simulator's initial truth, so the figure measures the catalog and the
    planner, not the diagnosis. The sample is drawn with ``seed`` (reproducible).

    Returns
    -------
    (teachers, mastery)
        The table :func:`plan_coverage` reads, and mastery per teacher id.
    """
    context = prepare(
        n_teachers=n_teachers, n_schools=n_schools, seed=seed, framework=framework, catalog=catalog
    )
    chunks = list(iter_chunks(context))
    teachers = pd.concat([c.teachers for c in chunks], ignore_index=True).merge(
        context.schools[["school_id", "environment", "chosen_points"]], on="school_id"
    )
    sample = (
        teachers.sample(frac=1.0, random_state=seed)
        .groupby(["stage", "environment"], sort=True)
        .head(per_cell)
        .reset_index(drop=True)
    )
    truth = pd.concat([c.truth_mastery_initial for c in chunks], ignore_index=True)
    truth = truth.loc[truth["teacher_id"].isin(set(sample["teacher_id"]))].set_index("teacher_id")
    codes = [c for c in framework.codes if c in truth.columns]
    mastery = {
        str(tid): {c: float(v) for c, v in zip(codes, row, strict=True)}
        for tid, row in zip(truth.index, truth[codes].to_numpy(), strict=True)
    }
    return sample, mastery
