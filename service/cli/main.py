"""The ``nengli`` command line.

Each command group lives in its own module under ``service/cli/`` and exposes
``register(app, evaluate_app)``; this module only wires them together so that adding a command
never means editing another command's file.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from competency_model.errors import NengliError

app = typer.Typer(
    name="nengli",
    help="nengli: 微能力点 diagnosis, course recommendation and learning paths.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
evaluate_app = typer.Typer(help="Offline evaluation of the models.", no_args_is_help=True)
app.add_typer(evaluate_app, name="evaluate")

#: Modules under ``service.cli`` that register commands. Keep sorted.
COMMAND_MODULES: list[str] = [
    "assessment_cmd",
    "batch_cmd",
    "db_cmd",
    "diagnose_cmd",
    "evaluate_diagnosis_cmd",
    "evaluate_recommend_cmd",
    "framework_cmd",
    "generate_cmd",
    "import_cmd",
    "items_cmd",
    "keys_cmd",
    "path_cmd",
    "policy_cmd",
    "recommend_cmd",
    "retention_cmd",
    "school_plan_cmd",
    "serve_cmd",
    "signin_cmd",
    "teachers_cmd",
    "train_cmd",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"service.cli.{_name}").register(app, evaluate_app)


def main() -> None:
    """Entry point that turns :class:`NengliError` into a one-line message and exit code 2."""
    logging.basicConfig(level=logging.WARNING)
    try:
        app(standalone_mode=False)
    except NengliError as error:
        typer.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
