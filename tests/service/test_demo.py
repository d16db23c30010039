"""``make demo`` speaks to a person: its terminal shows the examples, not the service's log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_demo(directory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The demo as ``make demo`` starts it, small and without serving."""
    environment = {k: v for k, v in os.environ.items() if k != "NENGLI_LOG_LEVEL"} | env
    return subprocess.run(
        [sys.executable, "-m", "service.demo", "--dir", str(directory)]
        + ["--teachers", "120", "--schools", "4", "--no-serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


def test_the_demo_prints_its_examples_and_nothing_on_stderr(demo_dir: Path) -> None:
    done = run_demo(demo_dir)

    assert done.returncode == 0, done.stderr
    assert "Platform API key" in done.stdout
    assert "curl" in done.stdout
    # No JSON log lines, no library warnings: stderr is for what went wrong.
    assert done.stderr == ""


def test_the_demo_logs_when_asked(demo_dir: Path) -> None:
    done = run_demo(demo_dir, NENGLI_LOG_LEVEL="INFO")

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line.get("level") == "info" for line in lines)
