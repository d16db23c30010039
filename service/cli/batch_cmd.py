"""``nengli batch``: per-partition training, top-N lists and diagnoses, locally or on Ray."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import typer

from service.cli.progress import QuietOption, cli_progress


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
        quiet: QuietOption = False,
    ) -> None:
        """Train every partition (province, or city of a very large one), score the top N
        per teacher for course/task/all, diagnose every teacher, write Parquet tagged with each
        model version. 按省（或大省的市）分区批量训练、生成推荐清单与诊断。"""
        from recommender.batch import (
            ENGINES,
            PartitionResult,
            PartitionTask,
            run_batch,
            run_partitions,
        )

        if engine not in ENGINES:
            raise typer.BadParameter(
                f"未知引擎 unknown engine {engine!r}; use one of {', '.join(ENGINES)}",
                param_hint="--engine",
            )
        if address and engine != "ray":
            raise typer.BadParameter(
                "--address 仅用于 only for --engine ray", param_hint="--address"
            )
        with cli_progress(quiet) as progress:

            def runner(tasks: Sequence[PartitionTask]) -> list[PartitionResult]:
                progress.stage(f"分区训练 training and scoring partitions ({engine})", len(tasks))
                if engine != "local":  # the cluster runs them at once: one step
                    results = run_partitions(tasks, engine, address)
                    progress.advance(len(tasks))
                    return results
                done: list[PartitionResult] = []
                for task in tasks:  # in this process one after another: a step per partition
                    done += run_partitions([task], engine, address)
                    progress.advance()
                return done

            result = run_batch(
                data,
                out,
                runner,
                engine,
                seed=seed,
                top_n=top_n,
                max_teachers=max_teachers,
                policy=policy,
                progress=progress,
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
