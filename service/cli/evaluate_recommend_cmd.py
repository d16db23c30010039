"""``nengli evaluate recommend`` and ``nengli evaluate interactions``: offline recommender evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for section, body in result.items():
        typer.echo(f"[{section}]")
        for name, value in body.items():
            typer.echo(f"  {name}: {value}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the recommender evaluations to ``nengli evaluate``."""

    @evaluate_app.command("recommend")
    def recommend(
        teachers: int = typer.Option(3000, "--teachers", min=50, help="Teachers to simulate."),
        seed: int = typer.Option(0, "--seed", help="Seed of the simulation, split and models."),
        schools: int | None = typer.Option(
            None, "--schools", help="Schools (default teachers/60)."
        ),
        kind: str = typer.Option("course", "--kind", help="course or task."),
        k: int = typer.Option(10, "--k", min=1, help="List length."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Simulate a province, hold out each teacher's last items, compare hybrid and baselines."""
        from recommender.evaluation.province import evaluate_recommend

        if kind not in ("course", "task"):
            raise typer.BadParameter(f"--kind {kind!r}; use course or task")
        result = evaluate_recommend(teachers, seed, n_schools=schools, kind=kind, k=k)
        _emit(result, as_json)

    @evaluate_app.command("interactions")
    def interactions(
        file: Path = typer.Option(..., "--file", help="Interaction file (e.g. ml-100k u.data)."),
        format: str = typer.Option("movielens", "--format", help="movielens or csv."),
        seed: int = typer.Option(
            42, "--seed", help="Seed of the 75/25 per-user split and the models."
        ),
        k: int = typer.Option(10, "--k", min=1, help="List length."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Run the CF engine on an interaction file with the Microsoft Recommenders protocol."""
        from recommender.evaluation.interactions import evaluate_interactions, read_interactions

        frame = read_interactions(file, format=format)  # type: ignore[arg-type]
        _emit(evaluate_interactions(frame, k=k, seed=seed), as_json)
