"""``nengli --help`` loads no data or web stack: the commands import them when they run.

Each case starts a fresh interpreter (this test session has long imported everything), runs
the real entry point and reads ``sys.modules`` after it; no timing is asserted (the figures are
in docs/benchmarks.md, from ``bench/bench_cli_startup.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
#: What a help text must not need; each costs from a tenth of a second to seconds to import.
NOT_FOR_HELP = (
    "pandas",
    "numpy",
    "scipy",
    "sklearn",
    "lightgbm",
    "implicit",
    "sqlalchemy",
    "fastapi",
)
PROBE = """
import contextlib, io, json, sys
from service.cli.main import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["train", "--help"], ["import", "--help"], ["evaluate", "recommend", "--help"]],
    ids=" ".join,
)
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
    )
    report = json.loads(process.stdout)
    assert report["code"] == 0
    loaded = {name.split(".")[0] for name in report["modules"]}
    assert loaded.isdisjoint(NOT_FOR_HELP), sorted(loaded & set(NOT_FOR_HELP))
    assert "service.cli.train_cmd" in report["modules"]  # the probe did register the commands
