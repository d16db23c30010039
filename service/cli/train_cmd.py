"""``nengli train``: fit the diagnosis and the recommender on a province and write a model directory."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.progress import QuietOption, cli_progress


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli train`` to the CLI."""

    @app.command("train")
    def train(
        data: Path = typer.Option(..., "--data", help="Province directory (read_province layout)."),
        out: Path = typer.Option(
            ..., "--out", help="Model directory to write (replaced atomically)."
        ),
        policy: str | None = typer.Option(None, "--policy", help="Regional policy name or file."),
        seed: int = typer.Option(0, "--seed", help="Seed of every random choice in training."),
        quiet: QuietOption = False,
    ) -> None:
        """Train the diagnosis and the hybrid recommender and save them with verified hashes."""
        from competency_model.province_columns import read_training_province
        from recommender.training import train_model_dir
        from training_data.province_checks import require_trainable

        with cli_progress(quiet) as progress:
            progress.stage("检查数据 checking the province")
            # Read once, events column-wise; checked before any fitting (one clear line, exit 2).
            province = read_training_province(data)
            require_trainable(province)
            metadata = train_model_dir(
                data, out, policy=policy, seed=seed, province=province, progress=progress
            )
        summary = {
            key: metadata[key]
            for key in ("n_teachers", "n_events", "n_items", "policy", "model_selection", "metrics")
        }
        typer.echo(json.dumps({"out": str(out), **summary}, ensure_ascii=False, indent=2))
        selection = metadata["model_selection"]
        # what the model selection chose and why, on one line each (the JSON above has figures)
        typer.echo(f"模型选择：{selection['reason_zh']}")
        typer.echo(f"model selection: {selection['reason_en']}")
