"""Progress bars of the long commands: stages on stderr when watched, silence otherwise.

``NENGLI_PROGRESS=1`` forces the bars as a terminal would see them; the assertions read the
stage names rich drew on stderr and check that stdout (JSON) is untouched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from service.cli.progress import ENV_VAR, progress_wanted

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """stderr without colour and cursor codes."""
    return ANSI.sub("", text)


def generate_args(out: Path) -> list[str]:
    return ["generate", "--teachers", "40", "--schools", "1", "--out", str(out)]


def test_forced_progress_names_the_generate_stages(
    run_main, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, "1")
    result = run_main(generate_args(tmp_path / "p"))
    assert result.exit_code == 0, result.stderr
    err = plain(result.stderr)
    for stage in ("preparing schools", "simulating and writing teachers", "manifest"):
        assert stage in err
    assert "40/40" in err  # the teachers counted chunk by chunk
    assert "ETA" in err
    assert json.loads(result.stdout)["tables"]["teachers"] == 40  # stdout stays JSON


def test_no_bars_when_stderr_is_not_a_terminal(
    run_main, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    result = run_main(generate_args(tmp_path / "p"))
    assert result.exit_code == 0
    assert result.stderr == ""


def test_quiet_wins_over_a_forced_bar(
    run_main, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, "1")
    result = run_main([*generate_args(tmp_path / "p"), "--quiet"])
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("value", "quiet", "wanted"), [("1", False, True), ("0", False, False), ("1", True, False)]
)
def test_progress_wanted_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, quiet: bool, wanted: bool
) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    assert progress_wanted(quiet) is wanted


def test_all_teachers_diagnosis_counts_every_teacher(
    run_main, monkeypatch: pytest.MonkeyPatch, trained_province, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, "1")
    n = len(trained_province.province.teachers)
    result = run_main(
        [
            "diagnose",
            "--all-teachers",
            "--data",
            str(trained_province.data_dir),
            "--model",
            str(trained_province.model_dir),
            "--out",
            str(tmp_path / "mastery.parquet"),
        ]
    )
    assert result.exit_code == 0, result.stderr
    err = plain(result.stderr)
    assert "loading the model" in err and "diagnosing every teacher" in err
    assert f"{n}/{n}" in err
    assert f"for {n} teachers" in result.stdout


def test_json_output_parses_and_has_no_bar(run_main, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "1")
    result = run_main(["catalog", "check", "--json"])
    assert result.exit_code in (0, 1)  # 1 = a cell cannot be planned (a rule verdict)
    body = json.loads(result.stdout)
    assert body["cells"]
    assert "planning stage" not in plain(result.stderr)
