"""Start-up cost of ``nengli --help`` and ``nengli train --help``: wall time and imports.

Usage::

    python -m bench.bench_cli_startup --small                      # 3 runs per command
    python -m bench.bench_cli_startup --runs 15 --compare /tmp/old-checkout

Each run is a fresh ``python -m service.cli …`` process (as a person's shell starts it), with
``PYTHONPATH`` set to the checkout. ``--compare DIR`` times a second checkout (e.g. an older
commit from ``git archive``) in the same loop, the two alternating run by run, so both see the
same machine load; the report then gives the ratio of the medians. One ``python -X importtime``
run per command and checkout adds the summed import time and which heavy libraries were loaded.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, list[str]] = {"--help": ["--help"], "train --help": ["train", "--help"]}
#: Libraries ``--help`` should not need; their presence in the import log is reported.
HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "sklearn",
    "lightgbm",
    "implicit",
    "sqlalchemy",
    "fastapi",
    "pydantic",
    "networkx",
    "pyarrow",
)


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout), "COLUMNS": "100", "NENGLI_PROGRESS": "0"}


def _wall(checkout: Path, args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=_env(checkout),
        cwd=checkout,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def _imports(checkout: Path, args: list[str]) -> dict[str, Any]:
    """Summed ``-X importtime`` self times (ms), module count and heavy libraries loaded."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "service.cli", *args],
        env=_env(checkout),
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    total_us = 0
    modules: set[str] = set()
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        total_us += int(self_us)
        modules.add(name.strip())
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    return {"import_ms": round(total_us / 1000, 1), "modules": len(modules), "heavy": heavy}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print/return its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="processes per command and checkout")
    parser.add_argument("--compare", type=Path, default=None, help="a second checkout to time")
    parser.add_argument("--small", action="store_true", help="3 runs, this checkout only")
    args = parser.parse_args(argv)
    runs = 3 if args.small else args.runs
    checkouts = {"this": REPO_ROOT}
    if args.compare is not None and not args.small:
        checkouts["compare"] = args.compare.resolve()
    for checkout in checkouts.values():  # warm the bytecode caches before timing
        for command in COMMANDS.values():
            _wall(checkout, command)
    times: dict[str, dict[str, list[float]]] = {n: {c: [] for c in COMMANDS} for n in checkouts}
    for _ in range(runs):
        for label, command in COMMANDS.items():
            for name, checkout in checkouts.items():  # alternate: same load for both
                times[name][label].append(_wall(checkout, command))
    report: dict[str, Any] = {
        "benchmark": "cli_startup",
        "runs": runs,
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "checkouts": {},
    }
    for name, checkout in checkouts.items():
        report["checkouts"][name] = {
            "path": str(checkout),
            **{
                label: {
                    "median_s": round(statistics.median(times[name][label]), 3),
                    "min_s": round(min(times[name][label]), 3),
                    **_imports(checkout, command),
                }
                for label, command in COMMANDS.items()
            },
        }
    if "compare" in checkouts:
        report["median_ratio_compare_over_this"] = {
            label: round(
                statistics.median(times["compare"][label])
                / statistics.median(times["this"][label]),
                2,
            )
            for label in COMMANDS
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return report


if __name__ == "__main__":
    main()
