"""Exit codes of the real ``nengli`` entry point, run as a separate process.

Typer's test runner always runs in standalone mode, so it cannot see what ``main()`` does with
an exit code; these tests start ``python -m service.cli`` as a user's shell would.
Documented codes: 0 success, 1 rule violations, 2 bad input — always one line, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


def test_help_exits_0() -> None:
    result = run_cli("policy", "--help")
    assert result.exit_code == 0
    assert "check-selection" in result.stdout


def test_group_without_a_command_prints_help_and_exits_2() -> None:
    result = run_cli("policy")
    assert result.exit_code == 2
    assert "check-selection" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
