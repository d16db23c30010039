"""``nengli school-plan SCHOOL_ID``: the school's 一校一策 proposal, with optional exports.

Mastery of every teacher of the school comes from the trained diagnosis (or a fresh fit on a
small province, see :func:`service.cli._common.diagnose_teachers`). ``--markdown`` and
``--xlsx`` write the 实施方案 draft; ``--figures DIR`` draws the school's portrait.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from competency_model.errors import NotFoundError
from service.cli.progress import QuietOption, cli_progress

__all__ = ["register"]


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli school-plan`` to the CLI."""

    @app.command("school-plan")
    def school_plan(
        school_id: str = typer.Argument(..., help="School id, e.g. S000001."),
        policy: str = typer.Option("national", "--policy", help="Policy name or file."),
        data: Path | None = typer.Option(None, "--data", help="Province directory."),
        model: Path | None = typer.Option(None, "--model", help="Trained model directory."),
        markdown: Path | None = typer.Option(None, "--markdown", help="Write the plan as .md."),
        xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the plan as .xlsx."),
        figures: Path | None = typer.Option(None, "--figures", help="Portrait figure dir."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
        quiet: QuietOption = False,
    ) -> None:
        """Propose a school's target points, 教研组 emphasis, courses and research activities."""
        from competency_model.policy import load_policy
        from recommender.school_planning import (
            attach_teachers,
            mastery_matrix,
            plan_school,
            to_markdown,
            write_xlsx,
        )
        from service.cli._common import diagnose_teachers, load_province_and_model

        with cli_progress(quiet or as_json) as progress:
            progress.stage("读取数据 reading the province")
            province, model_dir, framework, catalog = load_province_and_model(data, model)
            school = province.schools.loc[province.schools["school_id"].astype(str) == school_id]
            if school.empty:
                raise NotFoundError(f"school {school_id!r} is not in the province's schools table")
            members = province.teachers.loc[province.teachers["school_id"].astype(str) == school_id]
            if members.empty:
                raise NotFoundError(f"school {school_id!r} has no teachers in the teachers table")
            progress.stage(f"诊断 diagnosing {len(members)} teachers")
            diagnosis, source = diagnose_teachers(
                province, list(members["teacher_id"].astype(str)), model_dir, framework, catalog
            )
            progress.stage("规划 planning the school")
            joined = attach_teachers(mastery_matrix(diagnosis, framework.codes), members)
            plan = plan_school(school_id, school, joined, load_policy(policy), catalog, framework)
        outputs: dict[str, object] = {}
        if markdown is not None:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(to_markdown(plan, framework, catalog), encoding="utf-8")
            outputs["markdown"] = str(markdown)
        if xlsx is not None:
            outputs["xlsx"] = str(write_xlsx(plan, xlsx, framework, catalog))
        if figures is not None:
            from recommender.school_planning.figures import save_portrait_figures
            from recommender.school_planning.portrait import build_portrait

            portrait = build_portrait("school", school_id, joined, school, framework.codes)
            outputs["figures"] = save_portrait_figures(portrait, figures)
        if as_json:
            typer.echo(
                json.dumps(
                    {**plan.to_dict(), "mastery_source": source, "outputs": outputs},
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            typer.echo(f"(mastery: {source})")
            typer.echo(to_markdown(plan, framework, catalog))
            for kind, where in outputs.items():
                typer.echo(f"{kind}: {where if kind != 'figures' else where['files']}")  # type: ignore[index]
