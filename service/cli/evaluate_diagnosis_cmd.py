"""``nengli evaluate diagnosis``: score the diagnostic model on a simulated province."""

from __future__ import annotations

import json

import typer

from competency_model.errors import NengliError
from service.cli.progress import QuietOption, cli_progress

__all__ = ["register"]


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``evaluate diagnosis`` to the CLI."""

    @evaluate_app.command("diagnosis")
    def evaluate_diagnosis(
        teachers: int = typer.Option(2000, help="Teachers in the simulated province."),
        seed: int = typer.Option(0, help="Seed of the simulation and the fit."),
        family: str | None = typer.Option(
            None, help="Simulator family (passed to the simulator's config)."
        ),
        subsets: str = typer.Option(
            "",
            help="Comma-separated input subsets for the learned model "
            "(questionnaire,grades,records,grades_records,all) or 'every'.",
        ),
        subsets_only: bool = typer.Option(
            False,
            "--subsets-only",
            help="Report only the input subsets (skip the full-questionnaire comparison).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
        quiet: QuietOption = False,
    ) -> None:
        """Accuracy, AUC and calibration of mastery diagnosis vs simulated truth."""
        from pydantic import ValidationError

        from recommender.diagnosis.simulation_report import evaluate_on_simulation
        from recommender.diagnosis.subset_report import SUBSETS
        from service.cli.evaluate_diagnosis_options import DiagnosisEvaluationOptions

        names = list(SUBSETS) if subsets == "every" else [s for s in subsets.split(",") if s]
        unknown = [s for s in names if s not in SUBSETS]
        if unknown:
            raise NengliError(
                f"--subsets {','.join(unknown)!r}: unknown; use {', '.join(SUBSETS)} or 'every'"
            )
        try:
            options = DiagnosisEvaluationOptions(
                teachers=teachers,
                seed=seed,
                family=family,
                subsets=names,
                subsets_only=subsets_only,
            )
        except ValidationError as error:
            first = error.errors()[0]
            raise NengliError(f"--{first['loc'][0]} {first['input']!r}: {first['msg']}") from None
        try:
            with cli_progress(quiet or as_json) as progress:
                report = evaluate_on_simulation(
                    options.teachers,
                    options.seed,
                    family=options.family,
                    subsets=tuple(options.subsets),
                    subsets_only=options.subsets_only,
                    progress=progress,
                )
        except ValidationError as error:  # the simulator's config refused the family
            raise NengliError(
                f"--family {family!r}: the simulator does not accept it "
                f"({error.errors()[0]['msg']})"
            ) from None
        if as_json:
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
            return
        if "model" in report:
            rows = [("model", report["model"])]
            rows += [(f"baseline {k}", v) for k, v in report["baselines"].items()]
            rows += [(f"adaptive {k} items", v) for k, v in report["adaptive"].items()]
            rows += [("fused vs final truth", report["fused_vs_final"])]
            typer.echo(f"{'configuration':<28} accuracy    auc    ece")
            for name, m in rows:
                typer.echo(f"{name:<28} {m['accuracy']:8.3f} {m['auc']:6.3f} {m['ece']:6.3f}")
        if report.get("subsets"):
            typer.echo("")
            typer.echo(
                f"{'inputs':<15} {'method':<18} {'auc(with)':>9} {'ece(with)':>9} "
                f"{'auc(without)':>12} {'ece(without)':>12}"
            )
            for subset, entry in report["subsets"].items():
                for method in (
                    "model",
                    "factor",
                    "prior_only",
                    "factor_prior_only",
                    "graph_neighbour",
                ):
                    w, wo = entry[method]["with_evidence"], entry[method]["without_evidence"]
                    typer.echo(
                        f"{subset:<15} {method:<18} {w['auc']:9.3f} {w['ece']:9.3f} "
                        f"{wo['auc']:12.3f} {wo['ece']:12.3f}"
                    )
