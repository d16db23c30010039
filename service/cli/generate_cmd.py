"""``nengli generate``: simulate a province with known ground truth and write it to disk."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from service.cli.progress import QuietOption, cli_progress
from training_data.simulator.family_names import FAMILIES

if TYPE_CHECKING:
    from training_data.simulator.config import SimulatorConfig

__all__ = ["family_config", "register"]


def family_config(family: str) -> SimulatorConfig:
    """The default config of ``family``; an unknown name is a ``BadParameter`` (exit code 2)."""
    from pydantic import ValidationError

    from training_data.simulator.config import SimulatorConfig

    try:
        return SimulatorConfig(family=family)
    except ValidationError:
        raise typer.BadParameter(
            f"未知的模拟器族 unknown family {family!r}; choose one of {', '.join(FAMILIES)}",
            param_hint="--family",
        ) from None


def register(app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the ``generate`` command."""

    @app.command("generate")
    def generate_command(
        teachers: Annotated[int, typer.Option("--teachers", min=20, help="Teachers to simulate.")],
        schools: Annotated[
            int, typer.Option("--schools", min=1, help="Schools (20–300 teachers each).")
        ],
        out: Annotated[
            Path, typer.Option("--out", help="Directory to write (replaced atomically).")
        ],
        seed: Annotated[
            int, typer.Option("--seed", help="Random seed; same seed, same files.")
        ] = 0,
        format: Annotated[
            Literal["parquet", "csv"], typer.Option("--format", help="Table file format.")
        ] = "parquet",
        framework_file: Annotated[
            Path | None, typer.Option("--framework", help="Framework or overlay file.")
        ] = None,
        family: Annotated[
            str,
            typer.Option(
                "--family",
                help="Simulator family 模拟器族: " + ", ".join(FAMILIES) + " (docs/simulator.md).",
            ),
        ] = "graph",
        quiet: QuietOption = False,
    ) -> None:
        """Simulate schools, teachers, questionnaires, grades, learning events and the hidden truth."""
        from competency_model.catalog import load_catalog
        from competency_model.item_bank import load_item_bank
        from service.cli.framework_cmd import resolve_framework
        from training_data.simulator.writer import write_simulated_province

        config = family_config(family)
        framework = resolve_framework(framework_file) if framework_file else None
        catalog = load_catalog(None, framework) if framework is not None else None
        bank = load_item_bank(None, framework) if framework is not None else None
        started = time.perf_counter()
        with cli_progress(quiet) as progress:
            manifest = write_simulated_province(
                out,
                teachers,
                schools,
                seed,
                format=format,
                framework=framework,
                catalog=catalog,
                item_bank=bank,
                config=config,
                progress=progress,
            )
        seconds = time.perf_counter() - started
        typer.echo(
            json.dumps(
                {"out": str(out.resolve()), "seconds": round(seconds, 2), **manifest},
                ensure_ascii=False,
            )
        )
