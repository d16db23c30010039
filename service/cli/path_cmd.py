"""``nengli path TEACHER_ID``: one teacher's policy-compliant learning plan.

Mastery comes from the trained diagnosis in the model directory (``nengli train``) when there is
one; otherwise a fresh :class:`~recommender.diagnosis.model.DiagnosisModel` is fitted on the
province (small provinces only — above :data:`MAX_FRESH_FIT_TEACHERS` the command asks for a
trained model instead of silently taking minutes). It never falls back to simulator truth: a
plan built on answers the platform cannot know would look better than it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd
import typer

from competency_model.catalog import Catalog
from competency_model.errors import ModelError, NotFoundError
from competency_model.framework import Framework
from competency_model.plan import Plan
from competency_model.province import Province

__all__ = [
    "MAX_FRESH_FIT_TEACHERS",
    "diagnose_teachers",
    "load_province_and_model",
    "province_subset",
    "register",
]

logger = logging.getLogger(__name__)

#: Largest province on which the CLI fits a diagnosis model on the fly.
MAX_FRESH_FIT_TEACHERS = 5_000


def province_subset(province: Province, teacher_ids: list[str]) -> Province:
    """The province restricted to some teachers (their school rows kept whole)."""
    wanted = set(teacher_ids)
    teachers = province.teachers.loc[province.teachers["teacher_id"].astype(str).isin(wanted)]
    schools = province.schools.loc[province.schools["school_id"].isin(set(teachers["school_id"]))]

    def only(table: pd.DataFrame | None) -> pd.DataFrame | None:
        if table is None or "teacher_id" not in table.columns:
            return table
        return table.loc[table["teacher_id"].astype(str).isin(wanted)]

    return replace(
        province,
        schools=schools,
        teachers=teachers,
        responses=only(province.responses),
        grades=only(province.grades),
        events=only(province.events),
        truth_mastery_initial=only(province.truth_mastery_initial),
        truth_mastery=only(province.truth_mastery),
        truth_preferences=only(province.truth_preferences),
    )


def diagnose_teachers(
    province: Province,
    teacher_ids: list[str],
    model_dir: Path | None,
    framework: Framework,
    catalog: Catalog,
) -> tuple[pd.DataFrame, str]:
    """Long diagnosis table for ``teacher_ids`` and where it came from (``model`` / ``fresh fit``).

    Raises
    ------
    ModelError
        No usable model directory and the province is too large to fit on the fly.
    """
    from competency_model.item_bank import load_item_bank
    from recommender.diagnosis.model import DiagnosisModel

    item_bank = load_item_bank(framework=framework)
    subset = province_subset(province, teacher_ids)
    if model_dir is not None and (model_dir / "metadata.json").is_file():
        from recommender.bundle import load_bundle

        model = load_bundle(model_dir, item_bank, framework).diagnosis
        return model.diagnose(subset), f"model {model_dir}"
    n_teachers = len(province.teachers)
    if n_teachers > MAX_FRESH_FIT_TEACHERS:
        raise ModelError(
            f"no trained model in {model_dir} and the province has {n_teachers} teachers "
            f"(> {MAX_FRESH_FIT_TEACHERS} fitted on the fly); run `nengli train --data DIR "
            "--out MODEL_DIR` and pass --model MODEL_DIR"
        )
    logger.warning("no model directory; fitting a diagnosis model on %d teachers", n_teachers)
    model = DiagnosisModel().fit(province, item_bank, framework, catalog)
    return model.diagnose(subset), "fresh fit (no model directory)"


def load_province_and_model(
    data: Path | None, model: Path | None
) -> tuple[Province, Path | None, Framework, Catalog]:
    """The province, the model directory (if it exists), the framework and the catalog.

    Shared by every CLI command that answers for one teacher or school, so they all read the
    same ``--data``/``--model`` defaults (``NENGLI_DATA_DIR``/``NENGLI_MODEL_DIR``).
    """
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.province import read_province
    from service.settings import get_settings

    settings = get_settings()
    data_dir = data if data is not None else settings.data_dir
    model_dir = model if model is not None else settings.model_dir
    framework = default_framework()
    return read_province(data_dir), model_dir, framework, load_catalog(framework=framework)


def _print_plan(plan: Plan) -> None:
    typer.echo(f"教师 {plan.teacher_id}  政策 {plan.policy}  目标能力点 {'、'.join(plan.targets)}")
    totals = plan.totals
    typer.echo(
        f"学时 {totals.hours:g}（实践 {totals.practice_hours:g}，线上 {totals.online_hours:g}）"
    )
    for item in plan.items:
        typer.echo(
            f"  第{item.week:>3}周  {item.id}  {item.kind:<15} {item.hours:>4g}h  "
            f"{','.join(item.points):<8} {item.reason}"
        )
    typer.echo("提交证据：")
    for code, artifacts in plan.evidence.items():
        typer.echo(f"  {code}: {'、'.join(artifacts)}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli path`` to the CLI."""

    @app.command("path")
    def path(
        teacher_id: str = typer.Argument(..., help="Teacher id, e.g. T0000001."),
        policy: str = typer.Option("national", "--policy", help="Policy name or file."),
        data: Path | None = typer.Option(None, "--data", help="Province directory."),
        model: Path | None = typer.Option(None, "--model", help="Trained model directory."),
        method: str = typer.Option("milp", "--method", help="milp (HiGHS) or greedy."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    ) -> None:
        """Build a teacher's policy-compliant learning plan (targets, items, weeks, evidence)."""
        from competency_model.policy import load_policy
        from recommender.paths import build_learning_path
        from service.db.stores.records import completed_items, completion_events

        if method not in ("milp", "greedy"):
            raise typer.BadParameter(f"--method {method!r}: use milp or greedy")
        province, model_dir, framework, catalog = load_province_and_model(data, model)
        rows = province.teachers.loc[province.teachers["teacher_id"].astype(str) == teacher_id]
        if rows.empty:
            raise NotFoundError(f"teacher {teacher_id!r} is not in the province's teachers table")
        teacher = rows.iloc[0]
        school = province.schools.loc[province.schools["school_id"] == teacher["school_id"]]
        if school.empty:
            raise NotFoundError(f"school {teacher['school_id']!r} of {teacher_id} is unknown")
        school_row = school.iloc[0]
        diagnosis, source = diagnose_teachers(province, [teacher_id], model_dir, framework, catalog)
        mastery = dict(
            zip(diagnosis["point"], diagnosis["mastery_probability"].astype(float), strict=True)
        )
        completed = completed_items(completion_events(province.events, teacher_id)["item_id"])
        chosen = [c for c in str(school_row.get("chosen_points") or "").split(";") if c]
        plan = build_learning_path(
            teacher_id,
            mastery,
            str(school_row["environment"]),
            load_policy(policy),
            catalog,
            framework,
            chosen_points=chosen,
            completed=[c for c in completed if c in catalog],
            stage=str(teacher["stage"]),
            subject=str(teacher["subject"]),
            method=method,  # type: ignore[arg-type]
        )
        if as_json:
            typer.echo(json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2))
        else:
            typer.echo(f"(mastery: {source})")
            _print_plan(plan)
