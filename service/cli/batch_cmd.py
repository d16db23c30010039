"""``nengli batch``: per-partition training, top-N lists and diagnoses, locally or on Ray."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``nengli batch`` to the CLI."""

    @app.command("batch")
    def batch(
        data: Path = typer.Option(
            ..., "--data", help="Province or country directory (read_province layout)."
        ),
        out: Path = typer.Option(..., "--out", help="Batch directory to write."),
        engine: str = typer.Option("local", "--engine", help="local (this process) or ray."),
        address: str | None = typer.Option(
            None, "--address", help="Ray cluster address (default: start a local Ray)."
        ),
        top_n: int = typer.Option(20, "--top-n", min=1, help="Items per teacher and kind."),
        max_teachers: int | None = typer.Option(
            None,
            "--max-partition-teachers",
            min=1,
            help="Cut a province above this many teachers into its cities.",
        ),
        policy: str | None = typer.Option(None, "--policy", help="Regional policy name or file."),
        seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    ) -> None:
        """Train every partition (province, or city of a very large one), score the top N
        per teacher for course/task/all, diagnose every teacher, write Parquet tagged with each
        model version. 按省（或大省的市）分区批量训练、生成推荐清单与诊断。"""
        from recommender.batch import ENGINES, run_batch, run_partitions

        if engine not in ENGINES:
            raise typer.BadParameter(
                f"未知引擎 unknown engine {engine!r}; use one of {', '.join(ENGINES)}",
                param_hint="--engine",
            )
        if address and engine != "ray":
            raise typer.BadParameter(
                "--address 仅用于 only for --engine ray", param_hint="--address"
            )
        result = run_batch(
            data,
            out,
            lambda tasks: run_partitions(tasks, engine, address),
            engine,
            seed=seed,
            top_n=top_n,
            max_teachers=max_teachers,
            policy=policy,
        )
        summary = {
            "out": str(result.out_dir),
            "engine": result.engine,
            "seconds": result.seconds,
            "partitions": [
                {
                    "key": p.key,
                    "model_version": p.model_version,
                    "teachers": p.teachers,
                    "list_rows": p.list_rows,
                    "seconds": p.seconds,
                }
                for p in result.partitions
            ],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
