"""``nengli catalog check --policy P``: can every stage × environment get a compliant plan?

The answer comes from :func:`recommender.paths.coverage.catalog_check`, which builds a plan
for a neutral teacher (every gap 0.5, no school selection) of each stage (幼儿园, 小学, 初中, 高中,
中职) in each school environment with the same planner teachers get. A cell that cannot be
planned lists each failing rule with what to add; any such cell makes the command exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.progress import QuietOption, cli_progress

__all__ = ["register"]


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``catalog`` command group."""
    group = typer.Typer(help="The course and practice catalog (课程目录).", no_args_is_help=True)
    app.add_typer(group, name="catalog")

    @group.command("check")
    def check(
        policy: Annotated[str, typer.Option("--policy", help="Policy name or file.")] = "national",
        catalog_file: Annotated[
            Path | None, typer.Option("--catalog", help="Catalog JSON (default: the shipped one).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the cells as JSON.")] = False,
        quiet: QuietOption = False,
    ) -> None:
        """Per stage × environment: is a compliant plan possible, and what is missing (exit 1 if not)."""
        from competency_model.catalog import load_catalog
        from competency_model.framework_files import active_framework
        from competency_model.policy import load_policy
        from recommender.paths.coverage import catalog_check

        framework = active_framework()
        pol = load_policy(policy)
        catalog = load_catalog(catalog_file, framework=framework)
        with cli_progress(quiet or as_json) as progress:
            cells = catalog_check(pol, catalog, framework, progress=progress)
        if as_json:
            body = {"policy": pol.name, "cells": [c.as_dict() for c in cells]}
            typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        else:
            typer.echo(f"政策 {pol.name}  课程目录 {catalog.name}")
            typer.echo("学段    环境        可行  线上h  实践h  能力点  示例目标 / 缺少")
            for c in cells:
                mark = "是" if c.possible else "否"
                tail = "、".join(c.example_targets) if c.possible else ""
                typer.echo(
                    f"{c.stage:<6}{c.environment:<12}{mark:<5}{c.online_hours:>6.0f}"
                    f"{c.practice_hours:>7.0f}{len(c.coverable_points):>7}  {tail}"
                )
                for v in c.missing:
                    typer.echo(f"    - [{v.get('rule')}] {v.get('message_zh', '')}")
                    typer.echo(f"      {v.get('message_en', '')}")
        if any(not c.possible for c in cells):
            raise typer.Exit(code=1)
