"""``nengli path TEACHER_ID``: one teacher's policy-compliant learning plan.

Mastery comes from the trained diagnosis in the model directory (``nengli train``) when there is
one; otherwise a fresh :class:`~recommender.diagnosis.model.DiagnosisModel` is fitted on the
province (small provinces only — above :data:`service.cli._common.MAX_FRESH_FIT_TEACHERS` the command asks for a
trained model instead of silently taking minutes). It never falls back to simulator truth: a
plan built on answers the platform cannot know would look better than it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from competency_model.errors import NotFoundError
from service.cli.progress import QuietOption, cli_progress

if TYPE_CHECKING:
    from competency_model.plan import Plan

__all__ = ["register"]


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
    for left in plan.chosen_points_left_out:
        typer.echo(f"注意 / note: {left.message_zh} / {left.message_en}", err=True)
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
        quiet: QuietOption = False,
    ) -> None:
        """Build a teacher's policy-compliant learning plan (targets, items, weeks, evidence)."""
        from competency_model.policy import load_policy
        from recommender.paths import build_learning_path
        from service.cli._common import diagnose_teachers, load_province_and_model
        from service.db.stores.records import completed_items, completion_events

        if method not in ("milp", "greedy"):
            raise typer.BadParameter(f"--method {method!r}: use milp or greedy")
        with cli_progress(quiet or as_json) as progress:
            progress.stage("读取数据 reading the province")
            province, model_dir, framework, catalog = load_province_and_model(data, model)
            rows = province.teachers.loc[province.teachers["teacher_id"].astype(str) == teacher_id]
            if rows.empty:
                raise NotFoundError(
                    f"teacher {teacher_id!r} is not in the province's teachers table"
                )
            teacher = rows.iloc[0]
            school = province.schools.loc[province.schools["school_id"] == teacher["school_id"]]
            if school.empty:
                raise NotFoundError(f"school {teacher['school_id']!r} of {teacher_id} is unknown")
            school_row = school.iloc[0]
            progress.stage("诊断 diagnosing the teacher")
            diagnosis, source = diagnose_teachers(
                province, [teacher_id], model_dir, framework, catalog
            )
            mastery = dict(
                zip(diagnosis["point"], diagnosis["mastery_probability"].astype(float), strict=True)
            )
            completed = completed_items(completion_events(province.events, teacher_id)["item_id"])
            chosen = [c for c in str(school_row.get("chosen_points") or "").split(";") if c]
            progress.stage("规划 planning the learning path")
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
