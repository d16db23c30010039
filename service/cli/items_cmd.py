"""``nengli items check [FILE]``: validate an item bank and say what its Q-matrix can identify.

Loading goes through :func:`competency_model.item_bank.load_item_bank` (an invalid item raises
:class:`~competency_model.errors.FrameworkError` naming it; ``main()`` prints it and exits 2).
The identifiability figures come from :func:`recommender.diagnosis.qmatrix.analyse_q_matrix`,
once for the scenario items alone (the conjunctive DINA part, where a latent class is either
told apart or not) and once for the whole bank, whose Q-matrix the diagnosis model fits.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["item_bank_report", "register"]


def _q_summary(bank: Any, codes: list[str]) -> dict[str, Any] | None:
    from recommender.diagnosis.qmatrix import analyse_q_matrix

    if len(bank) == 0:
        return None
    report = analyse_q_matrix(bank.q_matrix(codes), codes)
    return {
        "n_items": report.n_items,
        "distinguishable_classes": report.n_distinguishable,
        "n_profiles": report.n_profiles,
        "complete": report.complete,
        "only_jointly_measured": report.only_jointly_measured,
        "unmeasured": report.unmeasured,
        "items_per_point": report.items_per_attribute,
    }


def item_bank_report(file: Path | None = None) -> dict[str, Any]:
    """Counts and Q-matrix identifiability of an item bank (``None`` = the shipped bank).

    Raises
    ------
    FrameworkError
        The file is missing, is not JSON, or an item is invalid (named in the message).
    """
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank

    framework = default_framework()
    bank = load_item_bank(file, framework=framework)
    codes = framework.codes
    return {
        "file": str(file) if file is not None else "shipped",
        "n_items": len(bank),
        "n_points": len(codes),
        "items_per_kind": dict(sorted(Counter(item.kind for item in bank.items).items())),
        "scenario": _q_summary(bank.of_kind("scenario"), codes),
        "all_items": _q_summary(bank, codes),
    }


def _print_report(report: dict[str, Any]) -> None:
    kinds = "，".join(f"{kind} {count}" for kind, count in report["items_per_kind"].items())
    typer.echo(f"题库 {report['file']}: {report['n_items']} items ({kinds})")
    scenario, whole = report["scenario"], report["all_items"]
    typer.echo("items per point (all / scenario):")
    codes = list(whole["items_per_point"])
    for start in range(0, len(codes), 10):
        typer.echo(
            "  "
            + "  ".join(
                f"{code} {whole['items_per_point'][code]}/"
                f"{scenario['items_per_point'][code] if scenario else 0}"
                for code in codes[start : start + 10]
            )
        )
    for label, summary in (("scenario items", scenario), ("all items", whole)):
        if summary is None:
            typer.echo(f"{label}: none")
            continue
        typer.echo(
            f"{label}: {summary['distinguishable_classes']} of 2^{report['n_points']} = "
            f"{summary['n_profiles']} latent classes distinguishable"
            f" ({'complete' if summary['complete'] else 'incomplete'})"
        )
        for code, others in summary["only_jointly_measured"].items():
            typer.echo(f"  {code} only measured jointly with {','.join(others) or '(varies)'}")
        if summary["unmeasured"]:
            typer.echo(f"  unmeasured: {','.join(summary['unmeasured'])}")


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``items`` command group."""
    group = typer.Typer(help="The questionnaire item bank (题库).", no_args_is_help=True)
    app.add_typer(group, name="items")

    @group.command("check")
    def check(
        file: Annotated[
            Path | None, typer.Argument(help="Item bank JSON file (default: the shipped bank).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Validate an item bank; count items per kind and point; report identifiability."""
        report = item_bank_report(file)
        if as_json:
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            _print_report(report)
