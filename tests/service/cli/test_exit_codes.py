"""Exit codes of the real ``nengli`` entry point, run as a separate process.

Typer's test runner always runs in standalone mode, so it cannot see what ``main()`` does with
an exit code; these tests start ``python -m service.cli`` as a user's shell would.
Documented codes: 0 success, 1 rule violations, 2 bad input — always one line, never a traceback.
"""

from __future__ import annotations

import enum as enum_module
import os
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Completed:
    """Exit code and output of one ``nengli`` process."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> Completed:
    """``python -m service.cli ARGS`` with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "100"}
    process = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=120,
        check=False,
    )
    return Completed(process.returncode, process.stdout, process.stderr)


def test_broken_selection_rules_exit_1() -> None:
    result = run_cli("policy", "check-selection", "jiangsu", "--points", "A1")
    assert result.exit_code == 1
    assert "[min_points]" in result.stdout
    assert "Traceback" not in result.stderr


def test_compliant_selection_exits_0() -> None:
    result = run_cli(
        "policy", "check-selection", "jiangsu", "--points", "A1,A3,A6", "--environment", "A"
    )
    assert result.exit_code == 0
    assert "OK" in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["recommend", "--kind", "bogus"], "--kind"),
        (["evaluate", "recommend", "--kind", "bogus"], "--kind"),
        (["train", "--data", "var/demo/data"], "--out"),
        (["generate", "--teachers", "100", "--schools", "2"], "--out"),
        (["policy", "check-selection", "jiangsu"], "--points"),
        (["diagnose", "--no-such-option"], "--no-such-option"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_bad_option_is_one_line_and_exit_2(args: list[str], named: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and named in lines[0]
    assert "--help" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["policy", "show", "no-such-policy"],
        ["train", "--data", "no/such/province", "--out", "model"],
        ["items", "check", "no/such/items.json"],
    ],
)
def test_nengli_error_is_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not (tmp_path / "model").exists()


def test_an_unwritable_output_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "graph.dot"
    result = run_cli("framework", "graph", "--output", str(target))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(target) in lines[0]


def test_help_exits_0() -> None:
    result = run_cli("policy", "--help")
    assert result.exit_code == 0
    assert "check-selection" in result.stdout


def test_group_without_a_command_prints_help_and_exits_2() -> None:
    result = run_cli("policy")
    assert result.exit_code == 2
    assert "check-selection" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


# ---- every registered command -------------------------------------------------------------
# The cases below are built from the command tree itself, so a command added to
# ``COMMAND_MODULES`` is covered without editing this file.

#: Path parameters that name something the command writes (given a fresh path, never missing).
OUTPUT_PARAMS = {"out", "output", "markdown", "xlsx", "figures", "target"}
#: Placeholders for required text parameters where "x" would fail for another reason first.
TEXT_PLACEHOLDERS = {"name": "national", "points": "A1,A3,A6", "role": "admin"}


def _leaf_commands() -> list[tuple[list[str], Any]]:
    import typer.main

    from service.cli.main import app

    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                walk(sub, [*path, name])
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), [])
    return found


LEAVES = _leaf_commands()
LEAF_IDS = [" ".join(path) for path, _ in LEAVES]


def _types(annotation: Any) -> set[Any]:
    """Every type named in ``annotation`` (``Path | None`` → {Path, NoneType})."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return {typing.Literal}
    if not args:
        return {annotation}
    return set().union(*(_types(a) for a in args))


def _value(param: Any, missing: Path, out_dir: Path) -> str:
    """A value for ``param`` that is valid in form; input paths are ``missing``."""
    annotation = param.type_descriptor.annotation
    types = _types(annotation)
    if Path in types:
        return str(out_dir / param.name if param.name in OUTPUT_PARAMS else missing / param.name)
    if typing.Literal in types:
        literal = (
            next(a for a in typing.get_args(annotation) if typing.get_args(a))
            if (typing.get_origin(annotation) is not typing.Literal)
            else annotation
        )
        return str(typing.get_args(literal)[0])
    enum = next((t for t in types if isinstance(t, type) and issubclass(t, enum_module.Enum)), None)
    if enum is not None:
        return str(next(iter(enum)).value)
    if int in types:
        return str(max(param.min or 1, 1))
    return TEXT_PLACEHOLDERS.get(param.name, "x")


def _input_paths(command: Any) -> list[Any]:
    return [
        p
        for p in command.params
        if Path in _types(p.type_descriptor.annotation) and p.name not in OUTPUT_PARAMS
    ]


def _call(path: list[str], command: Any, tmp_path: Path, every_input: bool) -> list[str]:
    """``path`` with every required parameter and argument, and (``every_input``) every input
    path missing."""
    missing = tmp_path / "missing-input"
    args = list(path)
    for param in command.params:
        wanted = param.required or param.param_type_name == "argument"
        if not (wanted or (every_input and param in _input_paths(command))):
            continue
        value = _value(param, missing, tmp_path)
        args += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    return args


def _in_process(args: list[str], capsys: pytest.CaptureFixture[str]) -> Completed:
    from service.cli.main import run

    code = run(args)  # an exception escaping here is the traceback a user would see
    captured = capsys.readouterr()
    return Completed(code, captured.out, captured.err)


def test_the_registry_was_walked() -> None:
    assert len(LEAVES) >= 30
    assert {"train", "import", "generate", "evaluate recommend", "policy check-plan"} <= set(
        LEAF_IDS
    )


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=LEAF_IDS)
def test_every_command_rejects_an_unknown_option_with_exit_2(
    path: list[str], command: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _in_process([*path, "--no-such-option"], capsys)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "--no-such-option" in lines[0] and "--help" in lines[0]


WITH_INPUTS = [(path, command) for path, command in LEAVES if _input_paths(command)]


def test_commands_reading_files_are_found() -> None:
    ids = {" ".join(path) for path, _ in WITH_INPUTS}
    assert {"train", "import", "batch-load", "framework validate", "items check"} <= ids


@pytest.mark.parametrize(
    ("path", "command"), WITH_INPUTS, ids=[" ".join(path) for path, _ in WITH_INPUTS]
)
def test_every_command_rejects_a_missing_input_path_with_exit_2(
    path: list[str],
    command: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # defaults such as var/data resolve to nothing here
    monkeypatch.delenv("NENGLI_PROGRESS", raising=False)
    result = _in_process(_call(path, command, tmp_path, every_input=True), capsys)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "missing-input" in last, result.stderr
    assert not (tmp_path / "out").exists()  # nothing written for a call that failed
