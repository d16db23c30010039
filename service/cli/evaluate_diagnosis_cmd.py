"""``nengli evaluate diagnosis``: score the diagnostic model on a simulated province."""

from __future__ import annotations

import json

import typer
from pydantic import BaseModel, Field, ValidationError

from competency_model.errors import NengliError

__all__ = ["register"]


class DiagnosisEvaluationOptions(BaseModel):
    """Validated options of ``nengli evaluate diagnosis``."""

    teachers: int = Field(2000, ge=100, le=200_000)
    seed: int = Field(0, ge=0)


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add ``evaluate diagnosis`` to the CLI."""

    @evaluate_app.command("diagnosis")
    def evaluate_diagnosis(
        teachers: int = typer.Option(2000, help="Teachers in the simulated province."),
        seed: int = typer.Option(0, help="Seed of the simulation and the fit."),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ) -> None:
        """Accuracy, AUC and calibration of mastery diagnosis vs simulated truth."""
        from recommender.diagnosis.simulation_report import evaluate_on_simulation

        try:
            options = DiagnosisEvaluationOptions(teachers=teachers, seed=seed)
        except ValidationError as error:
            first = error.errors()[0]
            raise NengliError(f"--{first['loc'][0]} {first['input']!r}: {first['msg']}") from None
        report = evaluate_on_simulation(options.teachers, options.seed)
        if as_json:
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
            return
        rows = [("model", report["model"])]
        rows += [(f"baseline {k}", v) for k, v in report["baselines"].items()]
        rows += [(f"adaptive {k} items", v) for k, v in report["adaptive"].items()]
        rows += [("fused vs final truth", report["fused_vs_final"])]
        typer.echo(f"{'configuration':<28} accuracy    auc    ece")
        for name, m in rows:
            typer.echo(f"{name:<28} {m['accuracy']:8.3f} {m['auc']:6.3f} {m['ece']:6.3f}")
