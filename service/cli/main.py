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
    "batch_load_cmd",
    "catalog_cmd",
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


def _usage_line(error: typer.TyperException) -> str:
    """One line for a bad option or argument: Click's message and where the help is."""
    message = " ".join(error.format_message().split())
    context = getattr(error, "ctx", None)
    command_path = context.command_path if context is not None else "nengli"
    return f"error: {message} (用法 / usage: {command_path} --help)"


def run(args: list[str] | None = None) -> int:
    """Run the CLI on ``args`` (default ``sys.argv[1:]``) and return its exit code.

    Typer is run outside its standalone mode so that errors come out as one line, never a
    traceback: rule violations exit 1 (the commands raise ``typer.Exit(1)``), bad input exits
    2, whether Click rejects it (unknown option, missing ``--out``, ``--kind bogus``), a
    command raises a :class:`NengliError`, or the system refuses a path the user gave (an
    output folder that does not exist, a file without read permission).
    """
    try:
        result = app(args=args, prog_name="nengli", standalone_mode=False)
    except NengliError as error:
        typer.echo(f"error: {error.message}", err=True)
        return 2
    except OSError as error:  # a path given on the command line that the system refuses
        where = f"{error.filename}: " if error.filename else ""
        typer.echo(f"error: {where}无法访问该路径 / {error.strerror or error}", err=True)
        return 2
    except typer.Abort:
        typer.echo("已中止 / aborted", err=True)
        return 1
    except typer.TyperException as error:  # Click's usage and file errors
        if type(error).__name__ == "NoArgsIsHelpError":
            # Bare ``nengli GROUP``: Typer has already printed the help; exit 2 as Click does.
            if error.format_message().strip():
                typer.echo(error.format_message(), err=True)
        else:
            typer.echo(_usage_line(error), err=True)
        return int(getattr(error, "exit_code", 2))
    # Outside standalone mode Typer returns the code of a ``typer.Exit`` instead of exiting.
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def main() -> None:
    """Console entry point: :func:`run` on ``sys.argv`` and exit with its code."""
    logging.basicConfig(level=logging.WARNING)
    sys.exit(run())


if __name__ == "__main__":
    main()
