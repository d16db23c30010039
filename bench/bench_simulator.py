"""Time and peak memory of simulating and writing a province.

Usage::

    python -m bench.bench_simulator --teachers 3000 --schools 40          # seconds
    nice -n 10 python -m bench.bench_simulator --teachers 1000000        # the 1M figure

Prints one JSON object: seconds, peak RSS (MiB, from ``resource.getrusage``), rows per table and
bytes written.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from training_data.simulator.writer import write_simulated_province


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print/return its JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=3000)
    parser.add_argument("--schools", type=int, default=None, help="default: teachers / 100")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--small", action="store_true", help="3,000 teachers, 40 schools")
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    args = parser.parse_args(argv)
    teachers = 3000 if args.small else args.teachers
    schools = 40 if args.small else (args.schools or max(1, teachers // 100))
    workdir = Path(tempfile.mkdtemp(prefix="nengli-bench-sim-"))
    out = args.out or workdir / "province"
    try:
        started = time.perf_counter()
        manifest = write_simulated_province(out, teachers, schools, args.seed, format=args.format)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(out).iterdir())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    report: dict[str, object] = {
        "benchmark": "simulator",
        "teachers": teachers,
        "schools": schools,
        "format": args.format,
        "seconds": round(seconds, 2),
        "teachers_per_second": round(teachers / seconds),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "bytes_written": size,
        "rows": manifest["tables"],
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
