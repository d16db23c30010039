"""``nengli evaluate recommend`` and ``nengli evaluate interactions``: offline recommender evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from service.cli.progress import QuietOption, cli_progress
from training_data.simulator.family_names import FAMILIES

ALL_FAMILIES = "all"


def resolve_families(names: list[str] | None) -> list[str]:
    """``--family`` values (names, comma lists or ``all``) as a list of known family names."""
    if not names:
        return ["graph"]
    chosen: list[str] = []
    for value in names:
        for name in (part.strip() for part in value.split(",")):
            if name == ALL_FAMILIES:
                chosen.extend(FAMILIES)
            elif name in FAMILIES:
                chosen.append(name)
            else:
                raise typer.BadParameter(
                    f"未知的模拟器族 unknown family {name!r}; choose one of "
                    f"{', '.join(FAMILIES)} or {ALL_FAMILIES}",
                    param_hint="--family",
                )
    return list(dict.fromkeys(chosen))


def _emit_families(results: dict[str, dict[str, Any]], as_json: bool, k: int) -> None:
    from recommender.evaluation.report import format_table

    if as_json:
        body: Any = next(iter(results.values())) if len(results) == 1 else {"families": results}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    for family, result in results.items():
        protocol = result["protocol"]
        title = (
            f"[{family}] {protocol['teachers']} teachers, seed {protocol['seed']}, "
            f"kind {protocol['kind']}, target {protocol['target']}, "
            f"{protocol['warm_test_teachers']} warm / {protocol['cold_test_teachers']} cold "
            f"test teachers, {protocol['seconds']} s"
        )
        typer.echo(format_table(result, title, k))
        typer.echo("")


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
        family: list[str] | None = typer.Option(  # noqa: B008
            None,
            "--family",
            help="Simulator family 模拟器族 (repeat, comma-separate, or 'all'): "
            + ", ".join(FAMILIES)
            + ". Default graph.",
        ),
        target: str = typer.Option(
            "complete",
            "--target",
            help="complete: hold out each teacher's last completions; enrol: last started items.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        quiet: QuietOption = False,
    ) -> None:
        """Simulate a province per family, hold out each teacher's last completions, compare."""
        from recommender.evaluation.province import evaluate_recommend

        if kind not in ("course", "task"):
            raise typer.BadParameter(f"--kind {kind!r}; use course or task")
        if target not in ("complete", "enrol"):
            raise typer.BadParameter(f"--target {target!r}; use complete or enrol")
        families = resolve_families(family)
        with cli_progress(quiet or as_json) as progress:
            results = {
                name: evaluate_recommend(
                    teachers,
                    seed,
                    n_schools=schools,
                    family=name,
                    kind=kind,
                    k=k,
                    target=target,
                    progress=progress,
                )
                for name in families
            }
        _emit_families(results, as_json, k)

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
